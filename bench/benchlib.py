"""What the benchmark scripts share: building the release binary, a fresh
state directory, and timing a child process with its own peak RSS."""
import os
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DKIMCTL = os.path.join(ROOT, ".build", "release", "dkimctl")


def free_port():
    """A UDP port free on 127.0.0.1 (for a test BIND)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return udp.getsockname()[1]


def build_release():
    subprocess.run(["swift", "build", "-c", "release", "--product", "dkimctl", "--static-swift-stdlib"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def fresh_state(prefix):
    """A temporary directory with an initialised state; returns (work dir, state dir, environment)."""
    work = tempfile.mkdtemp(prefix=prefix)
    state = os.path.join(work, "state")
    env = dict(os.environ, DKIMCTL_HOME=state, DKIMCTL_ACTOR="bench@localhost")
    subprocess.run([DKIMCTL, "init", "--owner", "bench@example.org"], env=env, check=True, stdout=subprocess.DEVNULL)
    return work, state, env


def run_measured(argv, env=None, stdout_path=None):
    """Runs argv to completion; returns (seconds, peak RSS in KiB, exit status, standard error).

    The peak RSS is the child's own only if this process is small when it
    forks: a forked child starts with its parent's pages.
    """
    output = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if stdout_path:
        output.close()
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status), process.stderr.read().decode()
