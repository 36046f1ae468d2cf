"""Offline use in the browser: the service worker, the web app manifest, the list of what a
course needs to be kept on a phone, and replaying writes made offline, once each."""
