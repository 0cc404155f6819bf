"""The baseline: the least a Flask app can do, served with the same gunicorn settings as the real one."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok():
    return {"ok": 1}
