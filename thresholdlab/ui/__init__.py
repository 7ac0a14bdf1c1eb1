"""The dashboard's Streamlit layer: the only part of ThresholdLab that imports streamlit or plotly.

- ``data``: cached loading, index building and queries, keyed by the file (the sha256 of an
  upload's or sample's bytes; a file on disk, of its path, size and change time).
- ``state``: session-state keys, thresholds that survive page changes, the shareable URL.
- ``sidebar``: data source, detected roles with overrides, decision rule.
- ``controls``: threshold sliders with exact number entry, class picker, optimise buttons.
- ``figures``: plotly figure builders (draw finished results, never compute).
- ``tables``: tables of finished results (pandas frames, the light HTML metrics table).
- ``live_charts``: a components-v2 component keeping plotly charts alive across slider moves.
- ``export``: pure functions building the downloadable JSON / CSV and restoring a config.
"""
