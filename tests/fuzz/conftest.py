"""Property tests and fuzz targets of every reader; ``targets.py`` is shared with the fuzzer."""

import sys
from pathlib import Path

# The shared targets module sits next to this file; pytest's import mode does not add this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))
