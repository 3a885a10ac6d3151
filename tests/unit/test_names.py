import pytest

from grants.domain import names


@pytest.mark.parametrize("name", ["Nachbarschaftshilfe Schinkel e.V.", "Kath. Kirchengemeinde St. Joseph",
                                  "Українська громада Оснабрюк", "الجمعية العربية في أوسنابروك",
                                  "Verein „Brücken bauen“ e.V.", "Ελληνική Κοινότητα", "Müller-Lüdenscheidt",
                                  "Café Ölmühle 2.0"])
def test_names_in_any_script_are_welcome(name):
    assert names.problem(name) is None


@pytest.mark.parametrize("name, why", [
    ("Cаritas Osnabrück", "Schriften"),                    # Cyrillic а in a Latin word
    ("Diakonie\u200b Osnabrück", "unsichtbares Zeichen"),  # zero-width space
    ("Verein\u00ad A", "unsichtbares Zeichen"),             # soft hyphen
    ("Gewinn auf www.evil.example jetzt", "Internet"),
    ("Hilfe e.V. – mehr auf hilfe-jetzt.de", "Internet"),
    ("Kontakt: chef@verein.example", "Internet"),
    ("Ver\u202eein", "Steuerzeichen"),
])
def test_disguised_names_are_refused(name, why):
    assert why in names.problem(name)
