// Plotly charts that stay alive across Streamlit reruns (see __init__.py for the props).
//
// Streamlit calls the default export on every rerun with the new props; with a key on the
// mount the parent element persists, so each chart's div (and with it zoom, legend toggles and
// hover) lives on. New figures are drawn with Plotly.react; a move restyles one trace per chart.

const charts = new WeakMap(); // parent element -> {curvesId, divs, latest, busy}
let plotly = null;

function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotly) {
    // The UMD build sets window.Plotly when imported; served beside this file (no CDN).
    plotly = import(new URL("./plotly.min.js", import.meta.url).href).then(() => window.Plotly);
  }
  return plotly;
}

const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ["lasso2d", "select2d"],
};

function chartState(parent) {
  let state = charts.get(parent);
  if (!state) {
    const grid = document.createElement("div");
    grid.className = "tl-live-charts";
    parent.appendChild(grid);
    state = { curvesId: null, grid, divs: {}, latest: null, busy: false };
    charts.set(parent, state);
  }
  return state;
}

function traceIndex(div, name) {
  return (div.data || []).findIndex((t) => t.name === name);
}

async function draw(Plotly, state, data, setStateValue) {
  if (data.figures) {
    for (const name of data.order) {
      let div = state.divs[name];
      if (!div) {
        div = document.createElement("div");
        div.className = "tl-live-chart";
        div.dataset.chart = name;
        state.grid.appendChild(div);
        state.divs[name] = div;
      }
      const figure = JSON.parse(data.figures[name]);
      await Plotly.react(div, figure.data, figure.layout, CONFIG);
    }
    state.curvesId = data.curves_id;
  } else if (state.curvesId !== data.curves_id) {
    // Mounted afresh (another page, a reload of the element): ask for the figures once.
    setStateValue("missing", { curves_id: data.curves_id, at: Date.now() });
    return;
  }
  // The charts redraw side by side, not one after another.
  await Promise.all(data.order.map((name) => move(Plotly, state.divs[name], data.moves[name])));
}

function move(Plotly, div, change) {
  if (!change || !div) return null;
  const i = traceIndex(div, change.trace);
  if (i < 0) return null;
  const trace = div.data[i];
  const moved = trace.x?.length !== change.x.length
    || change.x.some((x, j) => trace.x[j] !== x) || change.y.some((y, j) => trace.y[j] !== y);
  const shape = div.layout.shapes?.[0];
  const layout = change.line !== null && change.line !== undefined && shape
    && shape.x0 !== change.line ? { "shapes[0].x0": change.line, "shapes[0].x1": change.line }
    : {};
  if (!moved && !Object.keys(layout).length) return null;
  // One update call: the trace and the line are redrawn together, once.
  return Plotly.update(
    div, { x: [change.x], y: [change.y], hovertemplate: [change.hovertemplate] }, layout, [i]
  );
}

async function drain(state, setStateValue) {
  // One update at a time, always the latest props: a fast key repeat skips stale ones.
  if (state.busy) return;
  state.busy = true;
  try {
    const Plotly = await loadPlotly();
    while (state.latest) {
      const data = state.latest;
      state.latest = null;
      await draw(Plotly, state, data, setStateValue);
    }
  } finally {
    state.busy = false;
  }
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const state = chartState(parentElement);
  if (data.figures && state.latest && !state.latest.figures) {
    state.latest = data;
  } else if (state.latest && state.latest.figures && !data.figures
             && state.latest.curves_id === data.curves_id) {
    // Keep the figures not drawn yet, with the newest markers.
    state.latest = { ...state.latest, moves: data.moves };
  } else {
    state.latest = data;
  }
  drain(state, setStateValue);
}
