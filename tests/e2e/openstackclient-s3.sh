#!/usr/bin/env bash
# End-to-end: the `openstack` CLI image workflow of openstackclient.sh, with Glimpse's image data in an S3 bucket
# of a private OpenStack Swift (s3api) instead of the data directory.
#
# Usage: tests/e2e/openstackclient-s3.sh     (GLIMPSE_BIN=path to skip the build)
E2E_STORE=s3 exec bash "$(dirname "${BASH_SOURCE[0]}")/openstackclient.sh"
