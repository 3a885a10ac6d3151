"""Facts of the program "Dein Quartier und du" that are data, not law."""

# Osnabrück's 23 Stadtteile: the quarters an application names.
QUARTERS: tuple[str, ...] = (
    "Innenstadt", "Weststadt", "Westerberg", "Eversburg", "Hafen", "Sonnenhügel", "Haste",
    "Dodesheide", "Gartlage", "Schinkel", "Widukindland", "Schinkel-Ost", "Fledder", "Schölerberg",
    "Kalkhügel", "Wüste", "Sutthausen", "Hellern", "Atter", "Pye", "Darum/Gretesch/Lüstringen",
    "Voxtrup", "Nahne",
)
