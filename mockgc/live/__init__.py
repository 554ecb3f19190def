"""The parent process of a live run: the mock and Locust as watched child processes, the console, the demo."""
