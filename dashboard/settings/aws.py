"""AWS: region, endpoints, credentials, timeouts, and the names of the table and functions.

boto3's standard endpoint variables switch between AWS and the local stack.
Locally they default to the local services; in production they are unset.
"""

from .base import LOCAL_MODE, env

AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
DYNAMODB_ENDPOINT_URL = (
    env.str("AWS_ENDPOINT_URL_DYNAMODB", default="http://127.0.0.1:8100" if LOCAL_MODE else "") or None
)
LAMBDA_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL_LAMBDA", default="http://127.0.0.1:3001" if LOCAL_MODE else "") or None
# Local services accept any credentials; real AWS uses the normal chain.
AWS_LOCAL_CREDENTIALS = LOCAL_MODE and not env.str("AWS_ACCESS_KEY_ID", default="")
AWS_CONNECT_TIMEOUT = env.float("AWS_CONNECT_TIMEOUT", default=3.0)
AWS_READ_TIMEOUT = env.float("AWS_READ_TIMEOUT", default=10.0)
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=3)

ORDERS_TABLE = env.str("ORDERS_TABLE", default="Orders")
ORDER_APPROVAL_FUNCTION = env.str("ORDER_APPROVAL_FUNCTION", default="OrderApproval")
DURABLE_FUNCTIONS = env.list("DURABLE_FUNCTIONS", default=[ORDER_APPROVAL_FUNCTION])
# A person waiting on a page: one attempt, connect + read within this many seconds (core.aws.aws_interactive).
AWS_INTERACTIVE_TIMEOUT_SECONDS = env.float("AWS_INTERACTIVE_TIMEOUT_SECONDS", default=5.0)
