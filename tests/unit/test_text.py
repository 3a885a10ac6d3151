import pytest

from grants.domain import text


def test_the_same_letters_are_stored_the_same_way():
    decomposed = "Mu\u0308nster"                    # u + combining diaeresis, as a Mac may send it
    assert text.clean(decomposed) == "Münster" and len(text.clean(decomposed)) == 7
    assert text.clean("Zeile 1\r\nZeile 2\rZeile 3") == "Zeile 1\nZeile 2\nZeile 3"
    assert text.clean("aus Word\x0bkopiert\x0cweiter") == "aus Word\nkopiert\nweiter"
    assert text.clean("\ufeffTitel") == "Titel"
    assert text.clean("Tab\tbleibt, مرحبا, Привет") == "Tab\tbleibt, مرحبا, Привет"


@pytest.mark.parametrize("bad, code", [("Titel\x01", "U+0001"), ("\x00", "U+0000"), ("a\x1bb", "U+001B"),
                                       ("a\x7f", "U+007F"), ("a\x9b", "U+009B"),
                                       ("gpj.\u202eexe", "U+202E"), ("x\u2066y", "U+2066")])
def test_control_characters_are_refused_and_named(bad, code):
    with pytest.raises(ValueError, match=code.replace("+", r"\+")):
        text.clean(bad)
    assert text.forbidden(bad) == code


def test_stored_text_is_printed_without_what_the_filter_refuses():
    assert text.printable("Sprach\x01café\u202e") == "Sprachcafé"
    assert text.printable("ganz normal") == "ganz normal"
