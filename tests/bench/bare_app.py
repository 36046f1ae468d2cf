"""The reference of the load benchmark: a one-route Flask app that answers 5 KB of HTML, served
by gunicorn with the same settings (deploy/gunicorn.conf.py) as Nergi."""
from flask import Flask

app = Flask(__name__)
PAGE = "<!doctype html><title>bare</title><p>" + "x" * (5 * 1024 - 40) + "</p>"


@app.get("/")
def page() -> str:
    return PAGE
