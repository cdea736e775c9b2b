"""The endpoint simulator bin/serve runs beside the demo: crm_provisioning's
fake endpoint (crm_provisioning/tests/endpoint.py, which the tests use) with
a control channel and acknowledgements posted to the CRM.

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

Acknowledgements ("async" and "twice") are posted to the callback URL
(Authorization: Bearer KEY, from SIMULATOR_CALLBACK_KEY) once the answer
has gone out; a request asked again after its acknowledgement is done."""
import argparse
import json
import logging
import os
import sys
import threading
import urllib.request

from crm_provisioning.tests.endpoint import Endpoint

logger = logging.getLogger('simulator')


class Simulator(Endpoint):

    def __init__(self, host='127.0.0.1', port=8099, callback=None,
            callback_key=None):
        self.callback = callback
        self.callback_key = callback_key
        super().__init__(host, port)

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

    def route(self, method, path, key, body):
        if path == '/control':
            if method == 'POST':
                return 200, self.control(body), 0
            return 200, self.status(), 0
        if path == '/received' and method == 'GET':
            with self.lock:
                return 200, list(self.received), 0
        code, answer, delay = super().route(method, path, key, body)
        logger.info("%s %s -> %s %s", path, key, code, answer.get('status'))
        return code, answer, delay

    def acknowledge(self, key, reference):
        ack = super().acknowledge(key, reference)
        if self.callback:
            # after the synchronous answer has gone out
            timer = threading.Timer(0.1, self._post, args=(ack, reference))
            timer.daemon = True
            timer.start()
        return ack

    def _post(self, ack, reference):
        headers = {'Content-Type': 'application/json'}
        if self.callback_key:
            headers['Authorization'] = 'Bearer ' + self.callback_key
        request = urllib.request.Request(self.callback,
            data=json.dumps(ack).encode(), headers=headers, method='POST')
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except Exception as exception:
            status = getattr(exception, 'code', None) or exception
        logger.info("callback %s: %s", ack['idempotency_key'], status)
        key = ack['idempotency_key']
        with self.lock:
            if self.answers.get(key, (None,))[0] == 202:
                self.answers[key] = 200, {'status': 'done',
                    'reference': reference}

    def serve_forever(self):
        server = self.make_server()
        try:
            server.serve_forever()
        finally:
            server.server_close()


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
    logger.info("listening on %s (/provision, /sms, /control)",
        simulator.url)
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    sys.exit(main())
