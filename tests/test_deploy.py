"""docs/deploy.md's nginx server block, run by Debian's nginx in front of a real ``kb serve``.

Skipped when ``/usr/sbin/nginx`` is missing (``scripts/install-test-deps.sh``
installs it).  Only the ports of the documented block are changed.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from kb.indexer import build

from .conftest import REPO, copy_all_articles
from .test_serving import WAIT, answers, free_port, get, wait_until

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")


def documented_server_block():
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "docs/deploy.md should hold one nginx block"
    return blocks[0]


def nginx_conf(tmp_path, nginx_port, kb_port):
    block = documented_server_block()
    block = block.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{kb_port};")
    block = block.replace("listen 80;", f"listen 127.0.0.1:{nginx_port};")
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    return f"""
daemon off;
master_process on;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
{block}
}}
"""


@pytest.fixture
def stack(tmp_path):
    """kb serve (2 workers) behind nginx: ``(nginx port, kb port)``."""
    articles, index = copy_all_articles(tmp_path / "articles"), tmp_path / "index"
    assert build(articles, index).ok
    kb_port, nginx_port = free_port(), free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, nginx_port, kb_port))
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    argv = [sys.executable, "-m", "kb", "serve", "--index", str(index), "--port", str(kb_port), "--workers", "2"]
    procs = []
    try:
        procs.append(subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL, start_new_session=True))
        procs.append(
            subprocess.Popen(
                [NGINX, "-c", str(conf), "-p", str(tmp_path)],
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        )
        assert wait_until(lambda: answers(kb_port)), "kb did not start"
        assert wait_until(lambda: answers(nginx_port)), (tmp_path / "nginx-error.log").read_text()
        yield nginx_port, kb_port
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(WAIT)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(WAIT)


def without_timing(body):
    data = json.loads(body)
    data.pop("took_ms", None)
    return data


def test_answers_through_nginx_equal_direct_ones(stack):
    nginx_port, kb_port = stack
    for path in ["/search?q=miscarriage&limit=3", "/suggest?q=endo", "/articles/ivf", "/search?limit=0&q=x"]:
        via, direct = get(nginx_port, path), get(kb_port, path)
        assert via[0] == direct[0]
        assert without_timing(via[1]) == without_timing(direct[1])


def test_expect_continue_and_slow_clients_through_nginx(stack):
    nginx_port, _ = stack
    assert get(nginx_port, "/search?q=ivf", headers={"Expect": "100-continue"})[0] == 200
    slow = [socket.create_connection(("127.0.0.1", nginx_port), timeout=WAIT) for _ in range(100)]
    try:
        for s in slow:
            s.sendall(b"GET /search?q=ivf HTTP/1.1\r\n")
        assert get(nginx_port, "/search?q=ivf")[0] == 200
    finally:
        for s in slow:
            s.close()


def test_metrics_reach_loopback_through_nginx(stack):
    nginx_port, _ = stack
    status, body = get(nginx_port, "/metrics")
    assert status == 200 and b"kb_http_requests_total" in body
