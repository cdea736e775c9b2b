"""A fake of the network's provisioning interface and the SMS gateway: an
HTTP server in a thread answering the outbox as the real endpoints do.

    with Endpoint() as endpoint:        # a free port
        configuration.provisioning_url = endpoint.provision_url
        configuration.sms_url = endpoint.sms_url
        endpoint.fail(2)        # the next 2 requests: 503, not executed
        endpoint.refuse()       # the next request: refused, a final answer
        endpoint.delay(0.5)     # answer this late, after executing
        endpoint.asynchronous() # 202 now, the acknowledgement for later
        endpoint.twice()        # 200 done now and an acknowledgement
        endpoint.received, endpoint.executed, endpoint.callbacks

POST /provision takes the outbox's payload, POST /sms a message; both
need an Idempotency-Key header. A key is executed once: asked again, the
endpoint gives the answer of that execution. The acknowledgements of
asynchronous answers are kept in callbacks, for the test to deliver to
the acknowledgement route (data/simulator.py, which bin/serve runs for
the demo, posts them itself)."""
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATHS = {'/provision': 'provision', '/sms': 'sms'}


class Endpoint:
    "The endpoint's memory and switches; start() serves it in a thread"

    def __init__(self, host='127.0.0.1', port=0):
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self._server = self._thread = None
        self.reset()

    def reset(self):
        "Forget everything received and switch everything off"
        with self.lock:
            self.received = []    # every request, repeats included
            self.executed = {}    # key -> the request, once per key
            self.answers = {}     # key -> (status code, answer)
            self.callbacks = []   # acknowledgements to deliver
            self._fail, self._fail_status = 0, 503
            self._refuse = 0
            self._delay = 0.0
            self._twice = self._async = False
            self._references = itertools.count(1)

    # --- switches -------------------------------------------------------

    def fail(self, n=1, status=503):
        "Answer the next n requests with an error, without executing them"
        with self.lock:
            self._fail, self._fail_status = n, status
        return self

    def refuse(self, n=1):
        "Execute the next n requests and refuse them (status failed)"
        with self.lock:
            self._refuse = n
        return self

    def delay(self, seconds):
        "Wait this long before answering (the caller may time out)"
        with self.lock:
            self._delay = float(seconds)
        return self

    def twice(self, flag=True):
        "Answer done and acknowledge it as well: a duplicate answer"
        with self.lock:
            self._twice = bool(flag)
        return self

    def asynchronous(self, flag=True):
        "Answer 202 accepted; the result comes as an acknowledgement"
        with self.lock:
            self._async = bool(flag)
        return self

    # --- answering ------------------------------------------------------

    def handle(self, kind, key, body):
        "(status code, answer, delay) for one request to /provision or /sms"
        with self.lock:
            self.received.append({'kind': kind, 'key': key, 'body': body})
            if not key:
                return 400, {'status': 'error',
                    'error': "Idempotency-Key header missing"}, 0
            if key in self.answers:
                code, answer = self.answers[key]
                return code, answer, self._delay
            if self._fail > 0:
                self._fail -= 1
                return self._fail_status, {'status': 'error',
                    'error': "simulated outage"}, 0
            reference = 'SIM%06d' % next(self._references)
            self.executed[key] = {'kind': kind, 'body': body,
                'reference': reference}
            if self._refuse > 0:
                self._refuse -= 1
                code, answer = 200, {'status': 'failed',
                    'reference': reference,
                    'message': "refused by the simulator"}
            else:
                if self._async:
                    code, answer = 202, {'status': 'accepted',
                        'reference': reference}
                else:
                    code, answer = 200, {'status': 'done',
                        'reference': reference}
                if self._async or self._twice:
                    self.acknowledge(key, reference)
            self.answers[key] = code, answer
            return code, answer, self._delay

    def acknowledge(self, key, reference):
        "The acknowledgement of an executed request, for the callback route"
        ack = {'idempotency_key': key, 'status': 'done',
            'message': "executed by the simulator (%s)" % reference}
        self.callbacks.append(ack)
        return ack

    def route(self, method, path, key, body):
        "(status code, answer, delay) for an HTTP request"
        kind = PATHS.get(path)
        if method != 'POST' or not kind:
            return 404, {'error': "not found"}, 0
        return self.handle(kind, key, body)

    # --- serving --------------------------------------------------------

    @property
    def url(self):
        return 'http://%s:%s' % (self.host, self.port)

    @property
    def provision_url(self):
        return self.url + '/provision'

    @property
    def sms_url(self):
        return self.url + '/sms'

    def make_server(self):
        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        server.endpoint = self
        self.port = server.server_address[1]
        return server

    def start(self):
        "Serve in a background thread"
        self._server = self.make_server()
        self._thread = threading.Thread(target=self._server.serve_forever,
            name='endpoint', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class Handler(BaseHTTPRequestHandler):
    "JSON in, JSON out; what to answer is the endpoint's (server.endpoint)"
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._route(None)

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            self._answer(400, {'status': 'error',
                    'error': "the body is not JSON"})
            return
        self._route(body)

    def _route(self, body):
        code, answer, delay = self.server.endpoint.route(self.command,
            self.path, self.headers.get('Idempotency-Key'), body)
        if delay:
            time.sleep(delay)
        try:
            self._answer(code, answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting

    def _answer(self, code, answer):
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
