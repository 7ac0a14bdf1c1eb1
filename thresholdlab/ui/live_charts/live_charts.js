// Plotly charts and HTML blocks that stay alive across Streamlit reruns (see __init__.py for
// the props).
//
// Streamlit calls the default export on every rerun with the new props; with a key on the
// mount the parent element persists, so each chart's div (and with it zoom, legend toggles and
// hover) lives on. New figures are drawn with Plotly.react; a move redraws only the markers,
// which are layout shapes and annotations (see sync), never the traces: a moved trace makes
// plotly recompute and redraw every trace of the chart.

// parent element -> {block, html, curvesId, grid, divs, wanted, applied, latest, busy}
const charts = new WeakMap();
let plotly = null;

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotly) {
    // The UMD build sets window.Plotly when imported; served by the app's own server from
    // the installed plotly package (no CDN), at a URL relative to this file.
    plotly = import(new URL(url, import.meta.url).href).then(() => window.Plotly);
  }
  return plotly;
}

// No "responsive": a ResizeObserver on each chart follows its grid cell, which also changes
// when the page's layout does, not only when the window is resized.
const CONFIG = {
  displaylogo: false,
  modeBarButtonsToRemove: ["lasso2d", "select2d"],
};

function chartState(parent) {
  let state = charts.get(parent);
  if (!state) {
    state = {
      parent, block: null, html: null, curvesId: null, grid: null, divs: {}, wanted: {},
      applied: {}, latest: null, busy: false,
      resized: new ResizeObserver((entries) => {
        for (const { target } of entries) {
          const width = Math.round(target.getBoundingClientRect().width);
          if (target._fullLayout && width && width !== target._fullLayout.width) {
            window.Plotly.Plots.resize(target);
          }
        }
      }),
    };
    charts.set(parent, state);
  }
  return state;
}

// ---------------------------------------------------------------------------- HTML blocks
// A block's new HTML is laid over the old node by node: only the text and attributes that
// changed are touched, so a move changes a few text nodes (the numbers), not the whole block,
// and a focused or hovered element keeps its focus and hover.

function morph(from, to) {
  if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) {
    from.replaceWith(to.cloneNode(true));
    return;
  }
  if (from.nodeType === Node.TEXT_NODE) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return;
  }
  if (from.nodeType !== Node.ELEMENT_NODE) return;
  for (const { name, value } of to.attributes) {
    if (from.getAttribute(name) !== value) from.setAttribute(name, value);
  }
  for (const { name } of [...from.attributes]) {
    // A <details> the user opened stays open: "open" is the reader's, not the page's.
    if (name === "open" && from.nodeName === "DETAILS") continue;
    if (!to.hasAttribute(name)) from.removeAttribute(name);
  }
  morphChildren(from, to);
}

function morphChildren(from, to) {
  const old = [...from.childNodes];
  const fresh = [...to.childNodes];
  fresh.forEach((node, i) => {
    if (i < old.length) morph(old[i], node);
    else from.appendChild(node.cloneNode(true));
  });
  for (const node of old.slice(fresh.length)) node.remove();
}

function showHtml(state, html) {
  if (html === undefined || html === null || html === state.html) return;
  if (!state.block) {
    state.block = document.createElement("div");
    state.block.className = "tl-live-html";
    state.parent.insertBefore(state.block, state.grid);
  }
  const template = document.createElement("template");
  template.innerHTML = html;
  morphChildren(state.block, template.content);
  state.html = html;
}

// ---------------------------------------------------------------------------------- charts
function chartDiv(Plotly, state, name) {
  if (!state.grid) {
    state.grid = document.createElement("div");
    state.grid.className = "tl-live-charts";
    state.parent.appendChild(state.grid);
  }
  let div = state.divs[name];
  if (!div) {
    div = document.createElement("div");
    div.className = "tl-live-chart";
    div.dataset.chart = name;
    state.grid.appendChild(div);
    state.divs[name] = div;
    state.resized.observe(div);
  }
  return div;
}

function hiddenByLegend(div) {
  // Legend entries switched off ("legendonly"): a marker shape or hover annotation with the
  // same name stays hidden while it moves.
  return new Set((div.data || []).filter((t) => t.visible === "legendonly").map((t) => t.name));
}

const ITEM_KEY = /^(shapes|annotations)\[(\d+)\]\.(.+)$/;
const REDRAW_KEY = { shapes: ["opacity", 1], annotations: ["captureevents", false] };

function sync(Plotly, state, name) {
  // Sends plotly only the keys whose values changed since the last call for this chart.
  const div = state.divs[name];
  const wanted = state.wanted[name];
  if (!div || !wanted || !div._fullLayout) return null;
  const target = { ...wanted };
  const hidden = hiddenByLegend(div);
  if (hidden.size) {
    for (const array of ["shapes", "annotations"]) {
      (div.layout[array] || []).forEach((item, i) => {
        const key = `${array}[${i}].visible`;
        if (hidden.has(item.name) && key in target) target[key] = false;
      });
    }
  }
  const applied = state.applied[name] || {};
  const touched = {};
  for (const [key, value] of Object.entries(target)) {
    if (applied[key] === value) continue;
    const [, array, index, path] = key.match(ITEM_KEY);
    const item = div.layout[array][Number(index)];
    const parts = path.split(".");
    let node = item;
    for (const part of parts.slice(0, -1)) node = node[part] ??= {};
    node[parts[parts.length - 1]] = value;
    const [redraw, fallback] = REDRAW_KEY[array];
    touched[`${array}[${index}].${redraw}`] = item[redraw] ?? fallback;
  }
  if (!Object.keys(touched).length) return null;
  state.applied[name] = { ...applied, ...target };
  // Plotly.relayout on a position key ("calc+arraydraw") redraws the whole chart. So the new
  // values go into the chart's layout object directly, and the relayout names, for each item
  // changed, a key that plotly only redraws that item for ("arraydraw"), at its own value:
  // plotly then reads the item's new position from the layout and draws it alone.
  return Plotly.relayout(div, touched);
}

async function draw(Plotly, state, data, setStateValue) {
  if (data.figures) {
    // Every chart's cell exists before any is drawn: a chart drawn alone in the grid would
    // take the whole row's width.
    const divs = data.order.map((name) => chartDiv(Plotly, state, name));
    for (const [n, name] of data.order.entries()) {
      const figure = JSON.parse(data.figures[name]);
      await Plotly.react(divs[n], figure.data, figure.layout, CONFIG);
      // Its markers may be those of an older run (newer moves were merged in while it
      // waited): the sync below places them all.
      state.applied[name] = {};
      if (!divs[n].dataset.legendWatched) {
        divs[n].dataset.legendWatched = "1";
        divs[n].on("plotly_restyle", () => sync(Plotly, state, name));
      }
    }
    state.curvesId = data.curves_id;
  } else if (state.curvesId !== data.curves_id) {
    // Mounted afresh (another page, a reload of the element): ask for the figures once.
    setStateValue("missing", { curves_id: data.curves_id, at: Date.now() });
    return;
  }
  for (const name of data.order) state.wanted[name] = data.moves[name];
  // The charts move side by side, not one after another.
  await Promise.all(data.order.map((name) => sync(Plotly, state, name)));
}

async function drain(state, setStateValue) {
  // One update at a time, always the latest props: a fast key repeat skips stale ones.
  if (state.busy) return;
  state.busy = true;
  try {
    const Plotly = await loadPlotly(state.latest.plotly_js);
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
  // Text first and at once: it needs no plotly.js, which a first view may still be loading
  // (a block mounted before the charts starts that load).
  showHtml(state, data.html);
  if (!data.order || !data.order.length) {
    if (data.plotly_js) loadPlotly(data.plotly_js);
    return;
  }
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
