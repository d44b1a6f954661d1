"""Chat evidence: the marketplace's own chat log, chat evidence numbers (举证号) and the buyer's
permission for agents to read the last 90 days of chat."""
