#!/usr/bin/env python3
"""How the database grows per conversion and per click, measured through the real server.

Starts `refline serve` on a fresh database, records conversions through `POST /api/v1/conversions`
and clicks through `GET /redirect` (the real write paths, audit log and all), stops the server and
reports each table's size per row and per million. docs/SCALING.md quotes its output.

    python3 scripts/measure-growth.py --binary target/release/refline \
        --postgres-url postgres://postgres@127.0.0.1:5432/postgres --conversions 20000 --clicks 50000
    python3 scripts/measure-growth.py --binary target/release/refline --conversions 20000 --clicks 50000

Without --postgres-url it measures SQLite (file size, after a checkpoint).
"""
import argparse, http.client, json, os, random, socket, sqlite3, string, subprocess, sys, tempfile, threading, time


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def psql(url, sql):
    return subprocess.run(["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/refline")
    ap.add_argument("--postgres-url")
    ap.add_argument("--conversions", type=int, default=20000)
    ap.add_argument("--clicks", type=int, default=50000)
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    work = tempfile.mkdtemp()
    if a.postgres_url:
        name = "refline_growth_" + "".join(random.choices(string.ascii_lowercase, k=8))
        psql(a.postgres_url, f"CREATE DATABASE {name}")
        base, _, _ = a.postgres_url.rpartition("/")
        url = f"{base}/{name}"
    else:
        url = f"sqlite://{work}/refline.db"
    env = dict(os.environ, REFLINE_DATABASE_URL=url, REFLINE_SECRET_KEY_FILE=f"{work}/refline.key",
               REFLINE_MAIL_DIR=f"{work}/mail", REFLINE_RATE_LIMIT_SCALE="100000000")
    env.pop("REFLINE_LISTEN", None)
    made = json.loads(subprocess.run([a.binary, "merchant", "create", "--name", "Growth", "--plan", "scale", "--json"],
                                     env=env, check=True, capture_output=True, text=True).stdout)
    key = made["apiKey"]
    port = free_port()
    server = subprocess.Popen([a.binary, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(f"{work}/serve.log", "w"))
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.1).close(); break
            except OSError:
                time.sleep(0.05)
        measure(a, url, port, key)
    finally:
        server.terminate(); server.wait()
    report(a, url, work)
    if a.postgres_url:
        psql(a.postgres_url, f"DROP DATABASE {url.rpartition('/')[2]}")


def call(conn, method, path, key=None, body=None, headers=None):
    h = dict(headers or {})
    if key: h["Authorization"] = f"Bearer {key}"
    if body is not None: h["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse(); data = r.read()
    return r.status, (json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/json") else None)


def measure(a, url, port, key):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    st, c = call(conn, "POST", "/api/v1/campaigns", key, {"name": "Launch", "commissionType": "percentage",
                 "commissionValue": 20, "targetUrl": "https://shop.example/"})
    assert st == 201, c
    camp, code = c["data"]["id"], c["data"]["trackingCode"]
    affs = []
    for i in range(100):
        st, f = call(conn, "POST", "/api/v1/affiliates", key, {"email": f"aff{i}@growth.test", "name": f"Aff {i}", "campaignId": camp})
        assert st == 201, f
        affs.append(f["data"]["id"])

    def conversions(t):
        c = http.client.HTTPConnection("127.0.0.1", port)
        for n in range(t, a.conversions, a.threads):
            st, r = call(c, "POST", "/api/v1/conversions", key, {"campaignId": camp, "affiliateId": affs[n % 100],
                         "amount": 99.0, "orderId": f"order-{n:08d}", "clickId": f"click_{n:020d}",
                         "customerEmail": f"customer{n}@example.com"})
            assert st == 201, r

    def clicks(t):
        c = http.client.HTTPConnection("127.0.0.1", port)
        for n in range(t, a.clicks, a.threads):
            agent = f"Mozilla/5.0 (X11; Linux x86_64) Growth/{n % 5000}"
            c.request("GET", f"/redirect?tc={code}&aff={affs[n % 100]}&utm_source=newsletter",
                      headers={"User-Agent": agent, "Referer": "https://blog.example/post"})
            r = c.getresponse(); r.read(); assert r.status == 302

    for job, count in ((conversions, a.conversions), (clicks, a.clicks)):
        start = time.time()
        ts = [threading.Thread(target=job, args=(t,)) for t in range(a.threads)]
        [t.start() for t in ts]; [t.join() for t in ts]
        print(f"{job.__name__}: {count} in {time.time() - start:.1f} s", file=sys.stderr)
    time.sleep(1)  # the click writer's last batch


def report(a, url, work):
    rows = {"conversions": a.conversions, "clicks": a.clicks}
    if a.postgres_url:
        psql(url, "VACUUM ANALYZE")
        out = psql(url, "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                        "ORDER BY 2 DESC")
        print("| table | rows | size (MiB) | bytes per row, with indexes |")
        print("|---|---:|---:|---:|")
        for line in out.strip().splitlines()[:14]:
            name, size, tuples = line.split("|")
            size, tuples = int(size), max(int(tuples), 0)
            per = f"{size / tuples:,.0f}" if tuples > 0 else "–"
            print(f"| `{name}` | {tuples:,} | {size / 1048576:,.1f} | {per} |")
    else:
        db = sqlite3.connect(f"{work}/refline.db"); db.execute("PRAGMA wal_checkpoint(TRUNCATE)"); db.close()
        size = os.path.getsize(f"{work}/refline.db")
        print(f"SQLite file: {size / 1048576:,.1f} MiB for {rows}")
    print(f"rows written: {rows}")


if __name__ == "__main__":
    main()
