"""Local fakes of the providers' APIs. They check every request we send (URL, headers, body) and
answer with the providers' real response and error shapes."""
