"""Plain (non-durable) handlers registered on a test gateway."""


def echo(event, context):
    return {"echo": event, "function": context.function_name, "requestId": context.aws_request_id}


def boom(event, context):
    raise ValueError("the handler exploded on purpose")
