"""List pages issue a constant number of SQL statements, whatever the number of applications."""

import pytest
from sqlalchemy import event

from tests.factories_bulk import many_applications
from tests.web.helpers import login


class Counter:
    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def _count(self, *args):
        self.n += 1

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


@pytest.mark.parametrize("who,path", [("applicant_a", "/antrag/"), ("staff", "/fachdienst/"),
                                      ("staff", "/fachdienst/?state=paid"), ("staff", "/fachdienst/?page=3")])
def test_statements_do_not_grow_with_the_data(app, world, db, who, path):
    client = app.test_client()
    login(client, f"{who}@test.example")
    many_applications(db, world.program_id, [world.org_ids["a"], world.org_ids["b"]], 20)
    client.get(path)
    with Counter(db.engine) as small:
        assert client.get(path).status_code == 200
    many_applications(db, world.program_id, [world.org_ids["a"], world.org_ids["b"]], 10_000, year=2024)
    with Counter(db.engine) as large:
        r = client.get(path)
        assert r.status_code == 200
    assert large.n == small.n
    assert r.get_data(as_text=True).count("<tr>") <= 52      # a page, not everything
