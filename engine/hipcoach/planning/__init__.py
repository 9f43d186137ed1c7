"""From conclusions to a plan: choosing a balanced set of exercises within the minutes, and
building the typed plan (``formats.Plan``) with the reasons behind every choice."""
