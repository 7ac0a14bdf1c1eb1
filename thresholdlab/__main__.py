from thresholdlab.cli import main

raise SystemExit(main())
