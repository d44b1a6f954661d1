"""Buyer-extortion reports (差评师): a seller reports a buyer who threatened a bad review or a complaint
to extract money; the buyer answers; an agent decides. Upheld: the order's review is marked (kept,
folded, left out of the shop's rating) and the buyer gets a strike agents see on later complaints."""
