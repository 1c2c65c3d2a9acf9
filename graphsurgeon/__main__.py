from graphsurgeon.cli.main import main

raise SystemExit(main())
