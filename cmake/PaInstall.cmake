# `cmake --install`: the FHS layout the Debian package (debian/) ships too,
# so other distributions can package the same tree. Paths follow
# GNUInstallDirs; with CMAKE_INSTALL_PREFIX=/usr the configuration goes to
# /etc (ipsec-agentd's built-in default), otherwise to <prefix>/etc.
set(PA_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
	CACHE PATH "Where the systemd unit is installed")
set(PA_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/ipsec-agent")

# Man pages and the unit carry the version and the install paths.
foreach(page ipsec-agentd.8 ipseccmd.8 ipsec-agentd.conf.5)
	configure_file(${CMAKE_SOURCE_DIR}/docs/man/${page}
		${CMAKE_BINARY_DIR}/man/${page} @ONLY)
endforeach()
# The unit is written for /usr (tests check it as is): the real paths in.
file(READ ${CMAKE_SOURCE_DIR}/packaging/systemd/ipsec-agentd.service pa_unit)
string(REPLACE "/usr/sbin/" "${CMAKE_INSTALL_FULL_SBINDIR}/" pa_unit "${pa_unit}")
string(REPLACE "/etc/ipsec-agent/" "${PA_CONFDIR}/" pa_unit "${pa_unit}")
file(WRITE ${CMAKE_BINARY_DIR}/packaging/ipsec-agentd.service "${pa_unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
	${CMAKE_SOURCE_DIR}/packaging/systemd/ipsec-agentd.service)

install(FILES ${CMAKE_BINARY_DIR}/man/ipsec-agentd.8
	${CMAKE_BINARY_DIR}/man/ipseccmd.8
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_BINARY_DIR}/man/ipsec-agentd.conf.5
	DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_BINARY_DIR}/packaging/ipsec-agentd.service
	DESTINATION ${PA_SYSTEMD_UNITDIR})
install(FILES ${CMAKE_SOURCE_DIR}/packaging/completion/ipseccmd
	DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
# The journald message catalog of the audit events (journalctl -x); the
# systemd package's trigger on this directory rebuilds the catalog.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/journald/ipsec-agent.catalog
	DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/catalog)
# The configuration and the default store (the Windows built-in policies,
# none assigned: what the service uses when no store exists).
install(FILES ${CMAKE_SOURCE_DIR}/examples/ipsec-agentd.conf
	DESTINATION ${PA_CONFDIR})
install(FILES ${CMAKE_SOURCE_DIR}/examples/builtin-policies.xml
	DESTINATION ${PA_CONFDIR} RENAME store.xml)
# Schemas: the store's XSD, the directory schema for OpenLDAP (schema and
# cn=config LDIF forms).
install(FILES ${CMAKE_SOURCE_DIR}/agent/policy/policy.xsd
	${CMAKE_SOURCE_DIR}/packaging/ldap/ipsec-ad.schema
	${CMAKE_SOURCE_DIR}/packaging/ldap/ipsec-ad.ldif
	DESTINATION ${CMAKE_INSTALL_DATADIR}/ipsec-agent)
# JSON Schemas (draft 2020-12) of every --json output and control reply.
file(GLOB PA_SCHEMAS ${CMAKE_SOURCE_DIR}/packaging/schema/*.json)
install(FILES ${PA_SCHEMAS}
	DESTINATION ${CMAKE_INSTALL_DATADIR}/ipsec-agent/schema)
file(GLOB PA_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${PA_DOCS}
	DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${CMAKE_SOURCE_DIR}/examples/ipsec-agentd.conf
	${CMAKE_SOURCE_DIR}/examples/corp-policy.xml
	${CMAKE_SOURCE_DIR}/examples/builtin-policies.xml
	DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The web console: a Cockpit package (snapin_export/cockpit), found by
# cockpit-bridge in <datadir>/cockpit/<name>; Debian ships it as
# cockpit-ipsec-agent.
install(FILES ${CMAKE_SOURCE_DIR}/snapin_export/cockpit/manifest.json
	${CMAKE_SOURCE_DIR}/snapin_export/cockpit/index.html
	${CMAKE_SOURCE_DIR}/snapin_export/cockpit/ipsec.js
	${CMAKE_SOURCE_DIR}/snapin_export/cockpit/ipsec.css
	DESTINATION ${CMAKE_INSTALL_DATADIR}/cockpit/ipsec-agent)
