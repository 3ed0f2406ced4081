from radrepro.cli import main

raise SystemExit(main())
