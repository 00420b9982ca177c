// daemon/backup: an online, consistent backup of a live cluster (a stream of
// the backup file for the admin API) and the restore of a new cluster's
// member from that file (docs/operations.md, "Backups and disaster recovery").
export * from './backup-format.ts';
export * from './backup-reader.ts';
export * from './backup-stream.ts';
export * from './restore-backup.ts';
