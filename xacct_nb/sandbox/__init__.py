"""The embedded sandbox: two AWS accounts on 127.0.0.1, no internet, no real AWS.

:func:`start` runs moto's server behind xacct-nb's authorization layer in a
child process and seeds it the same way every time:

* account A (``111111111111``): user ``analyst`` (access keys, may
  ``sts:AssumeRole`` on B's roles) and role ``AssumeDynamoDBAccessRole``;
* account C (``333333333333``): user ``outsider``, trusted by nobody;
* account B (``222222222222``): table ``MyCrossAccountTable`` (orders, key
  ``customer_id`` / ``order_ts``, GSI ``status-index``), table
  ``MyProvisionedTable`` (the same orders, PROVISIONED: 100 RCU, its GSI 50
  RCU; reads beyond its capacity are throttled as on AWS,
  ``Sandbox.spend_burst``), table ``PrivateLedgerTable`` (granted to nobody), role
  ``DynamoDBReaderRoleForAccountA`` (read-only on both order tables, trust to A
  with an ExternalId)
  and role ``DynamoDBWriterRoleForAccountA`` (writes limited to two partitions).

>>> import xacct_nb as xn
>>> with xn.sandbox.start() as sb:
...     session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
...                              source_session=sb.analyst_session())
...     df = xn.read_scan(session, sb.table)
>>> len(df)
3000

Any boto3 program can use it too: ``sb.env()`` gives the environment
variables, ``sb.aws_config_file`` an AWS config file with profiles
``xacct-sandbox`` (the analyst), ``xacct-sandbox-admin-a`` and
``xacct-sandbox-admin-b``.

The subpackage is a server of its own, one module per concern:

* ``_launch``: :func:`start` and :class:`Sandbox` (the caller's side: child process,
  profiles, environment);
* ``_server``: the child process: moto's server behind the layer, seeding;
* ``_wire``: each request parsed once into a canonical form, and AWS's error formats;
* ``_sigv4``: SigV4 signatures and session tokens, checked with botocore's signer;
* ``_auth``: the authorization layer (identities, STS, decisions, forwarding);
* ``_accesses``: what a request asks for in IAM's terms, and the policies that apply;
* ``_dynamodb``: DynamoDB's behaviour where moto differs (capacity, COUNT, validation);
* ``_throughput``: provisioned read capacity enforced (token buckets, burst, throttling);
* ``_exports``: ExportTableToPointInTime as DynamoDB lays it out in S3;
* ``_demo_data``: the deterministic demo tables.
"""

from ._launch import PROFILE, Sandbox, start

__all__ = ["PROFILE", "Sandbox", "start"]
