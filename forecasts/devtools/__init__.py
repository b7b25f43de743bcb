"""Developer tools, a Django app of its own (label ``devtools``): synthetic data, benchmarks,
the load test and the SMTP sink they use. Installed only with DEBUG or DEV_TOOLS=1;
nothing in the product imports it."""
