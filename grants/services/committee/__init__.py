"""The Koordinierungsstab's work, one module per part: members (who sits on it), sessions (sittings,
agenda, attendance, quorum), voting (conflicts, motions, votes, counting), circulation (the written
procedure) and decisions (what the decision flow records after a sitting). The rules themselves are
pure functions in grants.domain.committee."""
