"""A live run judged and shown: the judge, its records, sessions, the HTML report, `mockgc check`, the files a run leaves."""
