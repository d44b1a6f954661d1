"""Detection, the Django side: chat screened through the pure `screening` engine, the messages it
flagged, the alerts they raise in the agents' queue, and what agents do from an alert (warn the
seller, mute the seller's chat to the buyer, open a complaint once the buyer agrees)."""
