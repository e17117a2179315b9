"""The HTTP API (starlette). Its contract is ../shared/design/api.md."""
