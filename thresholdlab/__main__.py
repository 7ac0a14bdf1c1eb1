from thresholdlab.cli import run

run()
