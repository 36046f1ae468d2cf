"""Authoring in the browser: course uploads (zip), their preview, publishing, history and download."""
