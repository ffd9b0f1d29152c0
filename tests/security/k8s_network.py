"""A small evaluator of Kubernetes NetworkPolicies: "may pod A reach pod B on port P?".

It follows the semantics of ``networking.k8s.io/v1`` (the API reference, "NetworkPolicy"):

* a pod is isolated for a direction when some policy of its namespace selects it and
  lists that direction in ``policyTypes`` (default: Ingress, plus Egress when the policy
  has ``egress`` rules); a non-isolated pod allows everything in that direction;
* policies add up: a connection is allowed when one egress rule of a policy selecting
  the source allows it (or the source is not egress-isolated) AND one ingress rule of a
  policy selecting the destination allows it (or the destination is not isolated);
* a rule matches when one of its peers matches (no ``from``/``to``: every peer) and one
  of its ports matches (no ``ports``: every port). A ``podSelector`` peer without a
  ``namespaceSelector`` means pods in the policy's own namespace; a named port is looked
  up among the destination pod's container ports; ``endPort`` gives a range.

``ipBlock`` peers are taken to match pod IPs as well as external addresses. The API
leaves that to the network plugin (Calico does match pod IPs); assuming the permissive
reading means that a "denied" answer holds on every plugin.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    """One side of a connection: a pod (``namespace`` set) or an address outside."""
    name: str
    labels: Mapping[str, str]
    ip: str
    namespace: str | None = "dlclab"
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    #: named container ports of the pod: name -> (port, protocol)
    named_ports: Mapping[str, tuple[int, str]] = field(default_factory=dict)

    @classmethod
    def from_pod(cls, name: str, pod: Mapping[str, Any], ip: str,
                 namespace: str = "dlclab") -> Endpoint:
        """From a Pod manifest (or a pod template: ``metadata`` + ``spec``)."""
        ports = {}
        for container in pod["spec"].get("containers", []):
            for port in container.get("ports") or []:
                if "name" in port:
                    ports[port["name"]] = (port["containerPort"], port.get("protocol", "TCP"))
        return cls(name, dict(pod["metadata"].get("labels") or {}), ip, namespace,
                   {"kubernetes.io/metadata.name": namespace}, ports)


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector: every matchLabels pair and every matchExpression holds."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown selector operator {operator!r} in {expression}")
    return True


def _ip_in_block(ip: str, block: Mapping[str, Any]) -> bool:
    address = ipaddress.ip_address(ip)
    if address not in ipaddress.ip_network(block["cidr"]):
        return False
    return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])


def peer_matches(peer: Mapping[str, Any], other: Endpoint, policy_namespace: str) -> bool:
    """Whether ``other`` is one of the endpoints a NetworkPolicyPeer names."""
    if "ipBlock" in peer:
        return _ip_in_block(other.ip, peer["ipBlock"])
    if other.namespace is None:  # outside the cluster: only ipBlocks name it
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    if "podSelector" not in peer:
        return True
    return selects(peer["podSelector"], other.labels)


def port_matches(ports: Iterable[Mapping[str, Any]] | None, port: int, protocol: str,
                 destination: Endpoint) -> bool:
    ports = list(ports or [])
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        if "port" not in entry:
            return True
        value = entry["port"]
        if isinstance(value, str):
            named = destination.named_ports.get(value)
            if named is not None and named == (port, protocol):
                return True
            continue
        if value <= port <= entry.get("endPort", value):
            return True
    return False


def _policy_types(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress"] + (["Egress"] if "egress" in spec else [])


def _selecting(policies: Iterable[Mapping[str, Any]], pod: Endpoint, direction: str):
    for policy in policies:
        namespace = policy["metadata"].get("namespace", "dlclab")
        spec = policy["spec"]
        if (pod.namespace == namespace and direction in _policy_types(spec)
                and selects(spec.get("podSelector", {}), pod.labels)):
            yield namespace, spec


def _direction_allows(policies, pod: Endpoint, direction: str, peer: Endpoint,
                      destination: Endpoint, port: int, protocol: str) -> bool:
    """Whether the policies isolating ``pod`` in ``direction`` let ``peer`` through."""
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    isolating = list(_selecting(policies, pod, direction))
    if not isolating:
        return True
    for namespace, spec in isolating:
        for rule in spec.get(key) or []:
            peers = rule.get(peers_key)
            if peers is not None and not any(peer_matches(p, peer, namespace) for p in peers):
                continue
            if port_matches(rule.get("ports"), port, protocol, destination):
                return True
    return False


def may_connect(policies: Iterable[Mapping[str, Any]], source: Endpoint,
                destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
    """Whether ``source`` may open a connection to ``destination`` on ``port``."""
    policies = [p for p in policies if p.get("kind") == "NetworkPolicy"]
    egress = _direction_allows(policies, source, "Egress", destination, destination,
                               port, protocol)
    if not egress:
        return False
    if destination.namespace is None:  # leaving the cluster: no ingress policy applies
        return True
    return _direction_allows(policies, destination, "Ingress", source, destination,
                             port, protocol)
