"""HTTP routes: the network's asynchronous acknowledgements.

    POST /<database>/crm_telecom/provisioning/ack
    Authorization: Bearer <user application key, crm_telecom_provisioning>
    {"idempotency_key": "...", "status": "done" | "failed", "message": "..."}

Answers {"idempotency_key", "state"}; 404 for an unknown key, 400 for a
malformed body. Acknowledging the same key again changes nothing."""
import json

from trytond.protocols.wrappers import (
    HTTPStatus,
    abort,
    user_application,
    with_pool,
    with_transaction,
)
from trytond.wsgi import app

# the res.user.application the network's keys belong to (provisioning.py)
APPLICATION = 'crm_telecom_provisioning'
provisioning_application = user_application(APPLICATION)


@app.route('/<database_name>/crm_telecom/provisioning/ack',
    methods={'POST'})
@with_pool
@with_transaction()
@provisioning_application
def provisioning_ack(request, pool):
    try:
        Request = pool.get('telecom.provisioning.request')
    except KeyError:
        # the route exists in every database, the module is not activated
        # in all of them
        abort(HTTPStatus.NOT_FOUND)
    try:
        data = json.loads(request.data or b'null')
    except ValueError:
        abort(HTTPStatus.BAD_REQUEST, "The body is not JSON.")
    if not isinstance(data, dict):
        abort(HTTPStatus.BAD_REQUEST, "The body must be a JSON object.")
    key = data.get('idempotency_key')
    status = data.get('status')
    message = data.get('message')
    if not key or not isinstance(key, str):
        abort(HTTPStatus.BAD_REQUEST, "idempotency_key is required.")
    if status not in {'done', 'failed'}:
        abort(HTTPStatus.BAD_REQUEST,
            "status must be \"done\" or \"failed\", not %r." % (status,))
    if message is not None and not isinstance(message, str):
        message = json.dumps(message, ensure_ascii=False)
    state = Request.acknowledge(key, status, message)
    if state is None:
        abort(HTTPStatus.NOT_FOUND, "No request with this idempotency key.")
    return {'idempotency_key': key, 'state': state}
