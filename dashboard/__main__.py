"""`python -m dashboard [--port N]`: serve the dashboard on loopback, with nothing fetched from the network."""

import argparse
import os
import sys
from pathlib import Path

from streamlit.web import cli

APP = Path(__file__).with_name("app.py")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("CRM_DASHBOARD_PORT", 8501)))
    parser.add_argument("--address", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    args = parser.parse_args(argv)
    sys.argv = ["streamlit", "run", str(APP), "--server.port", str(args.port), "--server.address", args.address,
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer", "--global.developmentMode",
                "false"]
    cli.main()


if __name__ == "__main__":
    main()
