// The objects the harness creates so workloads can run: fake nodes for kwok, a default
// StorageClass with no provisioner and hostPath PersistentVolumes for the binder to hand out.

export const fakeNodeAnnotation = 'kwok.x-k8s.io/node'

export interface NodeResources {
  cpu: string
  memory: string
  pods: string
}

export function fakeNode(name: string, resources: NodeResources): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [fakeNodeAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok'
      }
    },
    spec: {},
    status: { allocatable: resources, capacity: resources }
  }
}

export const storageClassName = 'standard'

/**
 * The default StorageClass: no provisioner (the volumes are made up front) and WaitForFirstConsumer,
 * as kind's and k3s's default classes (local-path) bind: the scheduler picks a
 * volume for a pod's claim as it places the pod. With Immediate the statefulset controller's pod
 * reached the scheduler before the binder had bound its claim, and failed to schedule ("unbound
 * immediate PersistentVolumeClaims", two FailedScheduling events a pod in a 1,000-cluster
 * benchmark) until a retry.
 */
export function defaultStorageClass(): object {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: storageClassName, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'kubernetes.io/no-provisioner',
    reclaimPolicy: 'Retain',
    volumeBindingMode: 'WaitForFirstConsumer'
  }
}

/**
 * A hostPath volume the persistent volume binder can bind a claim to. Retain: a released volume
 * is kept (Released) rather than handed to a deleter that a hostPath volume without a provisioner
 * does not have.
 */
export function hostPathVolume(name: string, path: string, capacity: string): object {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { 'e2e.relaxdiego.com/volume': 'hostpath' } },
    spec: {
      capacity: { storage: capacity },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName,
      volumeMode: 'Filesystem',
      hostPath: { path, type: 'DirectoryOrCreate' }
    }
  }
}

/** A List kubectl applies in one call. */
export function list(items: object[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items })
}
