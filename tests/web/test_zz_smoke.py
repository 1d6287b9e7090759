from tests.web.data import HR2471_PATH
import time
def test_smoke(client, seeded):
    t=time.time()
    for path in ["/", "/bills", HR2471_PATH, "/events", "/topics", "/topics/language-access", "/bills.csv", "/events.csv", "/api/bills", "/api/events", "/api/bills/us/117/HR%202471", "/sign-in", "/admin", "/healthz"]:
        r = client.get(path)
        print(path, r.status_code, len(r.data))
        if r.status_code >= 500: print(r.data.decode()[:3000])
    print(time.time()-t)
