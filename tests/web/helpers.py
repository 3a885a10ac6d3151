import re

from tests.factories import PASSWORD


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client, email, password=PASSWORD, follow=False):
    page = client.get("/anmelden")
    return client.post("/anmelden", data={"csrf_token": csrf(page.get_data(as_text=True)), "email": email,
                                          "password": password}, follow_redirects=follow)
