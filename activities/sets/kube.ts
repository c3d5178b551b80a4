import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { kubeState } from '../kube/state';
import { writeConfigMapEndpoints, writeFileEndpoints } from '../kube/config';
import { regenerateApiserver } from '../kube/regenerate';
import { type NodeInput } from './common';

/** The activities of the Kubernetes control plane next to the members (external etcd): read it, point it at the members. */
export function kubeActivities(deps: ActivityDeps) {
  return {
    /**
     * The control plane next to the members: the endpoints the voting members offer, the
     * kubeadm-config ConfigMap, and each control-plane node's running apiserver (via containerd),
     * /readyz, kubeadm config file and manifest. `enabled` false without a kubernetes section. Read-only.
     */
    inspectKube: clusterActivity(deps, (ops) => kubeState(ops)),

    /** Sets etcd.external.endpoints of the kubeadm-config ConfigMap with kubectl on `via`, a control-plane node whose apiserver is ready. */
    writeKubeConfigMap: clusterActivity(deps, async (ops, input: ClusterInput & { endpoints: string[]; via: string }) => ({
      via: input.via, ...(await writeConfigMapEndpoints(ops, input.via, input.endpoints)),
    })),

    /** Sets etcd.external.endpoints in the node's kubeadm config file (the rest of the file kept). */
    writeKubeadmConfigFile: clusterActivity(deps, (ops, input: NodeInput & { endpoints: string[] }) => writeFileEndpoints(ops, input.node, input.endpoints)),

    /** Regenerates the node's apiserver manifest with kubeadm and waits for the new pod (kube/regenerate.ts). */
    regenerateApiserver: clusterActivity(deps, (ops, input: NodeInput & { endpoints: string[] }) => regenerateApiserver(ops, input.node, input.endpoints)),
  };
}
