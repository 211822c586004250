from rest_framework.test import APIClient

def test_probe(demo):
    r = APIClient().get("/api/docs/")
    print(r.status_code, r.content.decode())
    r = APIClient().get("/api/schema/")
    print(r.status_code, r["Content-Type"], r.content[:200])
    r = APIClient().get("/api/schema/?format=json")
    print(r.status_code, r["Content-Type"], r.content[:200])
    c = APIClient(enforce_csrf_checks=True)
    r = c.post("/api/auth/login", {"username": "window1", "password": "demo-password"}, format="json")
    print(r.status_code, r.cookies, r.json())
    print(c.get("/api/auth/me").json())
    r = c.post("/api/cases", {}, format="json")
    print(r.status_code, r.json())
    r = c.post("/api/cases", {}, format="json", HTTP_X_CSRFTOKEN=c.cookies["csrftoken"].value)
    print(r.status_code, r.json())
