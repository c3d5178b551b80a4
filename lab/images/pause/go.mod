module etcd-runbooks.local/pause

go 1.22
