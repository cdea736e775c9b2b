"""A local stand-in for the network's provisioning interface and the SMS
gateway, for the demo and the tests.

    python -m data.simulator [--host 127.0.0.1] [--port 8099]
        [--callback URL] [--fail N] [--delay S] [--twice] [--async]

Endpoints (JSON bodies):
    POST /provision   a provisioning request (the CRM's outbox payload)
    POST /sms         an SMS {"to", "text", "event"}
    POST /control     change the switches: {"fail": N, "status": 503,
                      "delay": S, "twice": bool, "async": bool, "refuse": N,
                      "callback": URL, "callback_key": KEY, "reset": true}
    GET  /control     the switches and counters
    GET  /received    every request received, oldest first

Every request carries an Idempotency-Key header. The simulator executes a
key once: a repeated key gets the answer of the first execution (once an
asynchronous request has been acknowledged, that is the final answer).
Answers: 200 {"status": "done"}; with "async", 202 {"status": "accepted"}
and later a POST of {"idempotency_key", "status": "done", "message"} to the
callback URL (Authorization: Bearer KEY); with "twice", 200 done AND that
callback, so the CRM receives two acknowledgements; "fail" answers the next
N requests 503 without executing them; "refuse" answers the next N requests
200 {"status": "failed"} (the network refuses the order); "delay" waits S
seconds after executing and before answering (the caller may time out).

Without a callback URL, acknowledgements are only queued in
Simulator.callbacks (tests deliver them themselves).

From Python (tests):

    with Simulator() as sim:            # a free port, in a thread
        sim.url, sim.provision_url, sim.sms_url
        sim.fail(3); sim.delay(0.5); sim.twice(); sim.asynchronous()
        sim.received, sim.executed, sim.callbacks
"""
import argparse
import itertools
import json
import logging
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logger = logging.getLogger('simulator')

PATHS = {'/provision': 'provision', '/sms': 'sms'}


class Simulator:
    "The endpoint's state and switches; serve() or start() it"

    def __init__(self, host='127.0.0.1', port=0, callback=None,
            callback_key=None):
        self.host, self.port = host, port
        self.callback = callback
        self.callback_key = callback_key
        self.lock = threading.RLock()
        self._server = None
        self._thread = None
        self._timers = []
        self.reset()

    def reset(self):
        "Forget everything received and switch everything off"
        with self.lock:
            self.received = []    # every request, repeats included
            self.executed = {}    # key -> the request, once per key
            self.answers = {}     # key -> (status code, body)
            self.callbacks = []   # acknowledgements posted or queued
            self._fail = 0
            self._fail_status = 503
            self._refuse = 0
            self._delay = 0.0
            self._twice = False
            self._async = False
            self._references = itertools.count(1)

    # --- switches -----------------------------------------------------

    def fail(self, n=1, status=503):
        "Answer the next n requests with an error, without executing them"
        with self.lock:
            self._fail, self._fail_status = n, status
        return self

    def refuse(self, n=1):
        "Refuse the next n requests (a final 'failed' answer)"
        with self.lock:
            self._refuse = n
        return self

    def delay(self, seconds):
        "Wait this long before answering (after executing)"
        with self.lock:
            self._delay = float(seconds)
        return self

    def twice(self, flag=True):
        "Answer synchronously and also post an acknowledgement"
        with self.lock:
            self._twice = bool(flag)
        return self

    def asynchronous(self, flag=True):
        "Answer 202 and post the acknowledgement afterwards"
        with self.lock:
            self._async = bool(flag)
        return self

    def control(self, values):
        "Apply a /control body"
        if values.get('reset'):
            self.reset()
        if 'fail' in values:
            self.fail(int(values['fail']), int(values.get('status', 503)))
        if 'refuse' in values:
            self.refuse(int(values['refuse']))
        if 'delay' in values:
            self.delay(values['delay'])
        if 'twice' in values:
            self.twice(values['twice'])
        if 'async' in values:
            self.asynchronous(values['async'])
        if 'callback' in values:
            self.callback = values['callback'] or None
        if 'callback_key' in values:
            self.callback_key = values['callback_key'] or None
        return self.status()

    def status(self):
        with self.lock:
            return {
                'fail': self._fail, 'status': self._fail_status,
                'refuse': self._refuse, 'delay': self._delay,
                'twice': self._twice, 'async': self._async,
                'callback': self.callback,
                'received': len(self.received),
                'executed': len(self.executed),
                'callbacks': len(self.callbacks),
                }

    # --- the endpoint -------------------------------------------------

    def handle(self, kind, key, body):
        """(status code, answer, delay) for one request"""
        with self.lock:
            self.received.append({'kind': kind, 'key': key, 'body': body,
                    'at': time.time()})
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
                answer = (200, {'status': 'failed', 'reference': reference,
                        'message': "refused by the simulator"})
            elif self._async:
                answer = (202, {'status': 'accepted',
                        'reference': reference})
                self._acknowledge_later(key, reference)
            else:
                answer = (200, {'status': 'done', 'reference': reference})
                if self._twice:
                    self._acknowledge_later(key, reference)
            self.answers[key] = answer
            return answer[0], answer[1], self._delay

    def _acknowledge_later(self, key, reference):
        ack = {'idempotency_key': key, 'status': 'done',
            'message': "executed by the simulator (%s)" % reference}
        entry = {'body': ack, 'url': self.callback, 'status': None}
        self.callbacks.append(entry)
        if self.callback:
            # after the synchronous answer has gone out
            timer = threading.Timer(0.1, self._post_callback,
                args=(entry, key, reference))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _post_callback(self, entry, key, reference):
        headers = {'Content-Type': 'application/json'}
        if self.callback_key:
            headers['Authorization'] = 'Bearer ' + self.callback_key
        request = urllib.request.Request(entry['url'],
            data=json.dumps(entry['body']).encode(), headers=headers,
            method='POST')
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                entry['status'] = response.status
        except Exception as exception:
            entry['status'] = getattr(exception, 'code', None) or str(
                exception)
        logger.info("callback %s: %s", key, entry['status'])
        with self.lock:
            if self.answers.get(key, (None,))[0] == 202:
                # asked again later, the request is now done
                self.answers[key] = (200, {'status': 'done',
                        'reference': reference})

    # --- serving ------------------------------------------------------

    def _make_server(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, format, *args):
                logger.debug(format, *args)

            def _answer(self, code, body):
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(code)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                return json.loads(raw) if raw.strip() else {}

            def do_GET(self):
                if self.path == '/control':
                    self._answer(200, simulator.status())
                elif self.path == '/received':
                    with simulator.lock:
                        self._answer(200, simulator.received)
                else:
                    self._answer(404, {'error': "not found"})

            def do_POST(self):
                try:
                    body = self._body()
                except ValueError:
                    self._answer(400, {'status': 'error',
                            'error': "the body is not JSON"})
                    return
                if self.path == '/control':
                    self._answer(200, simulator.control(body))
                    return
                kind = PATHS.get(self.path)
                if not kind:
                    self._answer(404, {'error': "not found"})
                    return
                code, answer, delay = simulator.handle(kind,
                    self.headers.get('Idempotency-Key'), body)
                logger.info("%s %s -> %s %s", self.path,
                    self.headers.get('Idempotency-Key'), code,
                    answer.get('status'))
                if delay:
                    time.sleep(delay)
                try:
                    self._answer(code, answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        return server

    @property
    def url(self):
        return 'http://%s:%s' % (self.host, self.port)

    @property
    def provision_url(self):
        return self.url + '/provision'

    @property
    def sms_url(self):
        return self.url + '/sms'

    def start(self):
        "Serve in a background thread (port 0: a free port)"
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.serve_forever,
            name='simulator', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        for timer in self._timers:
            timer.cancel()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def serve_forever(self):
        self._server = self._make_server()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Provisioning and SMS endpoint simulator")
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8099)
    parser.add_argument('--callback',
        help="URL acknowledgements are posted to, e.g. "
        "http://127.0.0.1:8000/crm/crm_telecom/provisioning/ack")
    parser.add_argument('--fail', type=int, default=0,
        help="answer the first N requests 503")
    parser.add_argument('--delay', type=float, default=0)
    parser.add_argument('--twice', action='store_true')
    parser.add_argument('--async', dest='async_', action='store_true')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
        format='simulator: %(message)s')
    # the key is a secret: from the environment, not the command line
    simulator = Simulator(args.host, args.port, callback=args.callback,
        callback_key=os.environ.get('SIMULATOR_CALLBACK_KEY') or None)
    simulator.fail(args.fail).delay(args.delay).twice(args.twice)
    simulator.asynchronous(args.async_)
    logger.info("listening on http://%s:%s (/provision, /sms, /control)",
        args.host, args.port)
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    sys.exit(main())
