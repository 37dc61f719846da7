"""What the benchmark scripts share: building the release binary, a fresh
state directory, and timing a child process with its own peak RSS."""
import os
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# $DKIMCTL_BINARY measures another build (e.g. the one before a change) with the same script.
DKIMCTL = os.environ.get("DKIMCTL_BINARY") or os.path.join(ROOT, ".build", "release", "dkimctl")


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


class Postgres:
    """A throwaway PostgreSQL server: initdb'd in a temporary directory (as the postgres
    user when run as root, through setpriv), on a free port of 127.0.0.1, with a password."""

    def __init__(self):
        import glob
        import secrets
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if not versions:
            raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
        self.bin = os.path.dirname(versions[-1])
        self.work = tempfile.mkdtemp(prefix="dkimctl-pg.")
        os.chmod(self.work, 0o711)
        self.password = secrets.token_hex(12)
        data, socket_dir = os.path.join(self.work, "data"), os.path.join(self.work, "socket")
        for path in (data, socket_dir):
            os.mkdir(path, 0o700)
            if os.geteuid() == 0:
                import pwd
                account = pwd.getpwnam("postgres")
                os.chown(path, account.pw_uid, account.pw_gid)
        password_file = os.path.join(socket_dir, "password")
        with open(password_file, "w") as handle:
            handle.write(self.password)
        if os.geteuid() == 0:
            import pwd
            account = pwd.getpwnam("postgres")
            os.chown(password_file, account.pw_uid, account.pw_gid)
        self.run([f"{self.bin}/initdb", "-D", data, "-U", "dkimctl", f"--pwfile={password_file}", "--auth=scram-sha-256",
                  "-E", "UTF8", "--locale=C", "--no-sync"])
        os.remove(password_file)
        self.port = free_port()
        self.process = subprocess.Popen(
            self.unprivileged([f"{self.bin}/postgres", "-D", data, "-p", str(self.port), "-k", socket_dir,
                               "-c", "listen_addresses=127.0.0.1"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            if subprocess.run([f"{self.bin}/pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                              stdout=subprocess.DEVNULL).returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise SystemExit("PostgreSQL did not start")

    @staticmethod
    def unprivileged(argv):
        if os.geteuid() != 0:
            return argv
        return ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + argv

    def run(self, argv):
        subprocess.run(self.unprivileged(argv), check=True, stdout=subprocess.DEVNULL)

    def url(self, database):
        return f"postgres://dkimctl:{self.password}@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def psql(self, sql, database="postgres"):
        return subprocess.run([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "dkimctl", "-d", database,
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                              env=dict(os.environ, PGPASSWORD=self.password), check=True, capture_output=True, text=True).stdout

    def stop(self):
        self.process.send_signal(2)
        self.process.wait(timeout=30)
        subprocess.run(["rm", "-rf", self.work])


def measure_listing(dkimctl, env, output_path, runs=5):
    """`dkimctl list --format json`: its output's object count, then `runs` timed runs.
    Returns (objects listed, wall times, peak RSS in KiB).

    The count is made by a separate process: a forked child's peak RSS includes its
    parent's memory at fork time, so this process must stay small while it measures."""
    import sys
    with open(output_path, "wb") as output:
        subprocess.run([dkimctl, "list", "--format", "json"], env=env, stdout=output, check=True)
    listed = int(subprocess.run(
        [sys.executable, "-c", "import json, sys; print(len(json.load(open(sys.argv[1]))))", output_path],
        check=True, capture_output=True, text=True).stdout)
    os.remove(output_path)
    walls, peaks = [], []
    for _ in range(runs):
        elapsed, peak, status, error = run_measured([dkimctl, "list", "--format", "json"], env=env)
        if status != 0:
            sys.exit(f"dkimctl list failed with status {status}: {error}")
        walls.append(elapsed)
        peaks.append(peak)
    return listed, walls, peaks
