// The smallest ceph.conf that gives a healthy one-OSD cluster quickly. Each line here either keeps
// the cluster inside its temp dir and loopback, or removes a wait that only matters in production.
export interface CephConfInput {
  dir: string;
  fsid: string;
  monPort: number;
  rgwPort: number;
  osdPorts: [number, number];
}

export function cephConf({ dir, fsid, monPort, rgwPort, osdPorts }: CephConfInput): string {
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
# Everything is in this file. Fetching config from the monitor first also makes Pacific rebuild the
# monmap without the fsid; with auth none the OSD then raced the monmap and died on "wrong fsid".
no mon config = true
public addr = 127.0.0.1
cluster addr = 127.0.0.1
# msgr v1 only: one port for the monitor, fewer for the OSD
ms bind msgr2 = false
ms bind port min = ${osdPorts[0]}
ms bind port max = ${osdPorts[1]}
auth cluster required = none
auth service required = none
auth client required = none
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
log file = ${dir}/log/$name.log
log to stderr = false
err to stderr = true
# one OSD holds every replica
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
# radosgw creates its pools one monitor proposal at a time; the default 1 s batching made start ~10 s
paxos propose interval = 0.01
paxos min wait = 0.001

[mon]
mon data = ${dir}/mon

[osd]
osd data = ${dir}/osd
osd objectstore = memstore
memstore device bytes = 2147483648

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}
