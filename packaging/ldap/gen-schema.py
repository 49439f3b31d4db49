#!/usr/bin/env python3
"""Writes ipsec-ad.schema (slapd.conf form) and ipsec-ad.ldif (cn=config
form) from one table, so the two never disagree. Run from this folder."""
DS = '1.3.6.1.4.1.1466.115.121.1.15'	# Directory String
DN = '1.3.6.1.4.1.1466.115.121.1.12'	# DN
INT = '1.3.6.1.4.1.1466.115.121.1.27'	# INTEGER
OCT = '1.3.6.1.4.1.1466.115.121.1.40'	# Octet String
GT = '1.3.6.1.4.1.1466.115.121.1.24'	# Generalized Time
MATCH = {
    DS: "EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch",
    DN: "EQUALITY distinguishedNameMatch",
    INT: "EQUALITY integerMatch ORDERING integerOrderingMatch",
    OCT: "EQUALITY octetStringMatch",
    GT: "EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch",
}
# (OID, name, syntax, single-valued, description)
ATTRS = [
    ('1.2.840.113556.1.4.620', 'ipsecName', DS, 1, 'Ipsec-Name: display name of an IPsec policy object'),
    ('1.2.840.113556.1.4.621', 'ipsecID', DS, 1, 'Ipsec-ID: the braced GUID of the object'),
    ('1.2.840.113556.1.4.622', 'ipsecDataType', INT, 1, 'Ipsec-Data-Type: format of ipsecData (256; Windows writes 598)'),
    ('1.2.840.113556.1.4.623', 'ipsecData', OCT, 1, 'Ipsec-Data: the little-endian policy blob'),
    ('1.2.840.113556.1.4.624', 'ipsecOwnersReference', DN, 0, 'Ipsec-Owners-Reference: objects using this one; on a GPO IPSEC object the assigned policy'),
    ('1.2.840.113556.1.4.626', 'ipsecISAKMPReference', DN, 1, 'Ipsec-ISAKMP-Reference: policy to its main mode settings'),
    ('1.2.840.113556.1.4.627', 'ipsecNFAReference', DN, 0, 'Ipsec-NFA-Reference: policy to its rules'),
    ('1.2.840.113556.1.4.628', 'ipsecNegotiationPolicyReference', DN, 1, 'Ipsec-Negotiation-Policy-Reference: rule to its filter action'),
    ('1.2.840.113556.1.4.629', 'ipsecFilterReference', DN, 0, 'Ipsec-Filter-Reference: rule to its filter list'),
    ('1.2.840.113556.1.4.887', 'iPSECNegotiationPolicyType', DS, 1, 'IPSEC-Negotiation-Policy-Type: braced GUID (standard or default response)'),
    ('1.2.840.113556.1.4.888', 'iPSECNegotiationPolicyAction', DS, 1, 'IPSEC-Negotiation-Policy-Action: braced GUID (block, permit, secure, inbound pass-through)'),
    ('1.2.840.113556.1.4.517', 'ipsecPolicyReference', DN, 1, 'Ipsec-Policy-Reference (not used by GPO assignment)'),
    ('1.2.840.113556.1.2.3', 'whenChanged', GT, 1, 'When-Changed: kept by AD; an ordinary attribute here (slapd keeps modifyTimestamp)'),
    ('1.2.840.113556.1.2.2', 'whenCreated', GT, 1, 'When-Created: as whenChanged'),
    ('1.2.840.113556.1.2.13', 'displayName', DS, 1, 'Display-Name (do not load inetorgperson.schema alongside)'),
    ('1.2.840.113556.1.4.891', 'gPLink', DS, 1, 'GP-Link: [LDAP://<GPO DN>;<0 or 1 disabled, 2 enforced>] in order'),
    ('1.2.840.113556.1.4.892', 'gPOptions', INT, 1, 'GP-Options: 1 blocks inheritance'),
    ('1.2.840.113556.1.4.893', 'gPCFunctionalityVersion', INT, 1, 'GPC-Functionality-Version'),
    ('1.2.840.113556.1.4.894', 'gPCFileSysPath', DS, 1, 'GPC-File-Sys-Path: the GPO template in SYSVOL'),
    ('1.2.840.113556.1.4.1348', 'gPCMachineExtensionNames', DS, 1, 'GPC-Machine-Extension-Names: [{CSE}{tool}] pairs'),
    ('1.2.840.113556.1.4.1349', 'gPCUserExtensionNames', DS, 1, 'GPC-User-Extension-Names'),
    ('1.2.840.113556.1.4.141', 'versionNumber', INT, 1, 'Version-Number: GPO version, user << 16 | machine'),
    ('1.2.840.113556.1.4.38', 'flags', INT, 1, 'Flags: on a GPO 1 user part off, 2 machine part off'),
    ('1.2.840.113556.1.4.221', 'sAMAccountName', DS, 1, 'SAM-Account-Name: machine accounts end in $'),
    ('1.2.840.113556.1.4.619', 'dNSHostName', DS, 1, 'DNS-Host-Name'),
    ('1.2.840.113556.1.4.771', 'servicePrincipalName', DS, 0, 'Service-Principal-Name'),
]
IPSECBASE = ('ipsecName $ ipsecID $ ipsecDataType $ ipsecData $ '
             'ipsecOwnersReference $ description $ whenChanged $ whenCreated')
# (OID, name, superior, kind, MUST, MAY, description)
CLASSES = [
    ('1.2.840.113556.1.3.23', 'container', 'top', 'STRUCTURAL', 'cn', 'description $ displayName $ whenChanged $ whenCreated', 'Container'),
    ('1.2.840.113556.1.5.157', 'groupPolicyContainer', 'container', 'STRUCTURAL', None, 'versionNumber $ flags $ gPCFileSysPath $ gPCFunctionalityVersion $ gPCMachineExtensionNames $ gPCUserExtensionNames', 'Group-Policy-Container: a GPO'),
    ('1.2.840.113556.1.5.7000.56', 'ipsecBase', 'top', 'ABSTRACT', 'cn', IPSECBASE, 'Ipsec-Base: parent of the five IPsec classes'),
    ('1.2.840.113556.1.5.98', 'ipsecPolicy', 'ipsecBase', 'STRUCTURAL', None, 'ipsecISAKMPReference $ ipsecNFAReference', 'Ipsec-Policy (also the GPO IPSEC assignment object)'),
    ('1.2.840.113556.1.5.118', 'ipsecFilter', 'ipsecBase', 'STRUCTURAL', None, None, 'Ipsec-Filter: an IP filter list'),
    ('1.2.840.113556.1.5.119', 'ipsecNegotiationPolicy', 'ipsecBase', 'STRUCTURAL', None, 'iPSECNegotiationPolicyType $ iPSECNegotiationPolicyAction', 'Ipsec-Negotiation-Policy: a filter action'),
    ('1.2.840.113556.1.5.120', 'ipsecISAKMPPolicy', 'ipsecBase', 'STRUCTURAL', None, None, 'Ipsec-ISAKMP-Policy: main mode settings'),
    ('1.2.840.113556.1.5.121', 'ipsecNFA', 'ipsecBase', 'STRUCTURAL', None, 'ipsecNegotiationPolicyReference $ ipsecFilterReference', 'Ipsec-NFA: a rule'),
]
HEADER = '''# The Active Directory IPsec policy schema for OpenLDAP, with the OIDs and
# names AD uses ([MS-ADA1], [MS-ADSC], usage per [MS-GPIPSEC]), plus the few
# Group Policy and computer attributes the Policy Agent reads. Generated by
# gen-schema.py (edit that, not this file). AD syntaxes map as:
# Unicode string -> Directory String, DN -> DN, Integer -> INTEGER,
# Octet string -> Octet String, Generalized time -> Generalized Time.
# OpenLDAP cannot add attributes to "top", so description/whenChanged are
# allowed through ipsecBase and container. Domain and OU entries that carry
# gPLink/gPOptions, and computer entries, use extensibleObject.
# Requires core.schema and cosine.schema.
'''


def adef(a):
    oid, name, syn, single, desc = a
    return "( %s NAME '%s' DESC '%s' %s SYNTAX %s%s )" % (
        oid, name, desc, MATCH[syn], syn, ' SINGLE-VALUE' if single else '')


def cdef(c):
    oid, name, sup, kind, must, may, desc = c
    s = "( %s NAME '%s' DESC '%s' SUP %s %s" % (oid, name, desc, sup, kind)
    if must:
        s += " MUST %s" % must
    if may:
        s += " MAY ( %s )" % may
    return s + " )"


with open('ipsec-ad.schema', 'w') as f:
    f.write(HEADER + '\n')
    for a in ATTRS:
        f.write('attributetype ' + adef(a) + '\n\n')
    for c in CLASSES:
        f.write('objectclass ' + cdef(c) + '\n\n')
with open('ipsec-ad.ldif', 'w') as f:
    f.write(HEADER + '# cn=config form: ldapadd -Y EXTERNAL -H ldapi:/// -f ipsec-ad.ldif\n\n')
    f.write('dn: cn=ipsec-ad,cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: ipsec-ad\n')
    for a in ATTRS:
        f.write('olcAttributeTypes: ' + adef(a) + '\n')
    for c in CLASSES:
        f.write('olcObjectClasses: ' + cdef(c) + '\n')
