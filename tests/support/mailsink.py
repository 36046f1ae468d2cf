"""`python -m tests.support.mailsink`: an SMTP server on loopback that prints what it receives
(`make mail` runs it beside the worker, so a developer can read invitations and resets)."""
from __future__ import annotations

import argparse
import time

from tests.support.smtp import SMTPServer, text_body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=1025)
    port = parser.parse_args().port
    server = SMTPServer(port=port)
    server.start()
    shown = 0
    try:
        while True:
            for message in server.messages[shown:]:
                print(f"\n--- {message['Date']}  to {message['To']}\nSubject: {message['Subject']}\n\n"
                      f"{text_body(message)}", flush=True)
            shown = len(server.messages)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
