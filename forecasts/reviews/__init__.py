"""The review workflow: prompting, reminding and escalating due forecasts exactly once, the
signed one-click links, and the review pages."""
