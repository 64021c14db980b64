"""The website UI: a Gradio Blocks app built on an Advisor, mounted into the FastAPI app at /ui.

Import `ui.app` for `build_ui` and `mount_ui`; this package imports no Gradio by itself.
"""
