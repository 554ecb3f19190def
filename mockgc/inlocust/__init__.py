"""What runs inside Locust (loadtests/locustfile.py loads it): the flows' driver glue and the nemesis."""
