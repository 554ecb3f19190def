"""Live runs: the mock and Locust as processes, the nemesis, history collection, the verdict and the report."""
