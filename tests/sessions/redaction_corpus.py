"""What engineers paste into notes: secret-bearing texts (each with the secrets that must not
survive redaction and the kind of the first finding) and clean texts that must raise nothing.

Every token below is made up; the formats are the real ones."""

from __future__ import annotations

from dataclasses import dataclass

GH = "ghp_gNSWPH8prVqsUeQCtDR3zzX6hqo35uwZqxZO"
AWS_ID = "AKIAXLG56MR2N5S6QGHF"
AWS_SECRET = "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"
AWS_SECRET_2 = "GoeszaDGHxFAQLVeuzU/XFXO/eF28RlHnqzgsBH/"
AZURE_KEY = (
    "ciCL5WENyBtBtF6KbGsgcTgXJc65LCUEq+g4+6XcqNFa/u6YqNKOtAuTaHdE9XhS7hPdXQ/+rqTvpYrSGOvdEQ=="
)
SB_KEY = "bdb7Hd8N1KXuKxEAy61OCyL7YeKWJgHic3fI3X63hwU="
SAS_SIG = "DoUHrk58XaJLXqv1vSwhzP8GNYHFEf8h4JY6591P2Wc%3D"
GOOGLE = "AIzaLkIFKaEaTopYW5LSQdGrKNB4di4RX2G1zdW"
STRIPE = "sk_live_3TEpy0HhWo0pmq23epYfD3QJ"
GLPAT = "glpat-dbmRZRMPsXBDo5VeOeTT"
SLACK = "xoxb-2291046614-5521840387-lx3mygx4nwv58tdl3ir4t8dj"
SENDGRID = "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"
JWT = (
    "eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCIsICJraWQiOiAibk9vM1pEck9EWEVLMWpLV2hYc2xIUl9LWEVnIn0"
    ".eyJhdWQiOiAiaHR0cHM6Ly9ncmFwaC5taWNyb3NvZnQuY29tIiwgImlzcyI6ICJodHRwczovL3N0cy53aW5kb3dz"
    "Lm5ldC83MmY5ODhiZi8iLCAidXBuIjogInN2Yy1iYWNrdXBAY29udG9zby5jb20iLCAiZXhwIjogMTc2NzIyNTYwMH0"
    ".AsBYGoDDbzNeJECQrDgJxa1J-5Eg_t6AHzNp_Zd9P2O"
)
BASIC = "c3ZjLW1vbml0b3I6R3IzM25GMWVsZCEyMDI0"
BASIC_2 = "YXBpdXNlcjpYcTctcExtOS13UTI="
BITLOCKER = "304950-567442-338623-877143-563599-072771-839972-687413"
HEX_SECRET = "fb5b7bad30198596637c9e3c3e2716c624bf3227"
CLIENT_SECRET = "o58giEJEuyGePQ44xh5Gv2rkDETXgOwc"
PEM_BODY = (
    "A/xXED8p9TBwQHF+77VjwmIAZpI82rQTSReCmpI1xKi9hXvz883y4/Brts50VFxh3JF5tL9DY0ddLwQguvtKH37\n"
    "Que3UpvF8qQ47eO0FDSNppOzC2CyYM96xLWIKNUsg7tUKU1MQgvc07N8EG7kVjv/FA8E4j2gm4Q1VVZGbzWueat\n"
)


@dataclass(frozen=True)
class Secret:
    text: str
    secrets: tuple[str, ...]
    kind: str
    flavour: str  # windows | linux | any


S = Secret
SECRET_BEARING: list[Secret] = [
    # --- passwords in assignments, Windows ---
    S(
        "Reset done. New password: Welcome2024! — user must change at next logon.",
        ("Welcome2024!",),
        "password",
        "windows",
    ),
    S(
        "Local admin on LAPTOP-0142 is .\\itadmin, pwd: Tr0ub4dor&3",
        ("Tr0ub4dor&3",),
        "password",
        "windows",
    ),
    S(
        "$password = 'Spring#2025'\n$cred = New-Object PSCredential('CONTOSO\\svc-sql', "
        "(ConvertTo-SecureString $password -AsPlainText -Force))",
        ("Spring#2025",),
        "password",
        "windows",
    ),
    S(
        "New-LocalUser -Name 'kiosk' -Password (ConvertTo-SecureString 'K1osk!Lobby' "
        "-AsPlainText -Force) -PasswordNeverExpires",
        ("K1osk!Lobby",),
        "password",
        "windows",
    ),
    S(
        "Set-ADAccountPassword -Identity jdoe -Reset -NewPassword (ConvertTo-SecureString "
        '-AsPlainText "Autumn-Leaves-77" -Force)',
        ("Autumn-Leaves-77",),
        "password",
        "windows",
    ),
    S(
        "$secure = ConvertTo-SecureString -String 'B4ckup$vc2024' -AsPlainText -Force",
        ("B4ckup$vc2024",),
        "password",
        "windows",
    ),
    S(
        "net user jdoe Summer2025! /domain\nThe command completed successfully.",
        ("Summer2025!",),
        "password",
        "windows",
    ),
    S(
        "C:\\> net user svc_scan Sc4nn3r#Pass /add /passwordchg:no",
        ("Sc4nn3r#Pass",),
        "password",
        "windows",
    ),
    S(
        "net use Z: \\\\fs01\\finance Fin@nce2024 /user:CONTOSO\\jdoe /persistent:yes",
        ("Fin@nce2024",),
        "password",
        "windows",
    ),
    S(
        "cmdkey /add:TERMSRV/rds01.contoso.local /user:CONTOSO\\rdsadmin /pass:Rd5-Adm1n!",
        ("Rd5-Adm1n!",),
        "password",
        "windows",
    ),
    S(
        "psexec \\\\WS-0231 -u CONTOSO\\helpdesk -p H3lpd3sk! cmd /c gpupdate /force",
        ("H3lpd3sk!",),
        "password",
        "windows",
    ),
    S(
        "sqlcmd -S SQL01\\CRM -U sa -P 'S@Adm1n-2023' -Q \"SELECT @@VERSION\"",
        ("S@Adm1n-2023",),
        "password",
        "windows",
    ),
    S(
        "New-ADUser -Name 'Jane Doe' -SamAccountName jdoe -AccountPassword "
        "(ConvertTo-SecureString 'Start123!' -AsPlainText -Force) -Enabled $true",
        ("Start123!",),
        "password",
        "windows",
    ),
    S(
        "Connect-VIServer -Server vcsa01 -User administrator@vsphere.local -Password 'VMw@re!2024'",
        ("VMw@re!2024",),
        "password",
        "windows",
    ),
    S(
        "Install-ADDSDomainController -DomainName contoso.local -SafeModeAdministratorPassword "
        "(ConvertTo-SecureString 'DSRM-Restore-99' -AsPlainText -Force)",
        ("DSRM-Restore-99",),
        "password",
        "windows",
    ),
    S(
        "Invoke-Sqlcmd -ServerInstance sql02 -Username reporting -Password Rep0rt!ng -Query $q",
        ("Rep0rt!ng",),
        "password",
        "windows",
    ),
    S(
        "Temp password is Winter2025! — told the user to change it after first sign-in.",
        ("Winter2025!",),
        "password",
        "any",
    ),
    S(
        "Called Jane, reset her password to Bluebird#42 and unlocked the account.",
        ("Bluebird#42",),
        "password",
        "any",
    ),
    S(
        "Wi-Fi key: Gu3stN3twork2024 (guest SSID, rotated monthly)",
        ("Gu3stN3twork2024",),
        "password",
        "any",
    ),
    S(
        "PasswordProfile = @{ Password = 'Tmp-7781-Xq'; ForceChangePasswordNextSignIn = $true }",
        ("Tmp-7781-Xq",),
        "password",
        "windows",
    ),
    S(
        "Recovery password for the DSRM is Dsrm_Recover_2024",
        ("Dsrm_Recover_2024",),
        "password",
        "windows",
    ),
    S(
        "SonicWall VPN policy: IKE pre-shared key = 8uM9-Qz2p-Lk7w",
        ("8uM9-Qz2p-Lk7w",),
        "password",
        "any",
    ),
    S(
        'Veeam repository credentials: user veeam-repo, password "R3p0$itory!"',
        ("R3p0$itory!",),
        "password",
        "windows",
    ),
    S(
        "Printer scan-to-folder account scanner, password: PrinterScan99",
        ("PrinterScan99",),
        "password",
        "windows",
    ),
    # --- passwords, Linux ---
    S("mysql -u root -pS3cretRootPw crm < dump.sql", ("S3cretRootPw",), "password", "linux"),
    S(
        "export PGPASSWORD=pgAdm1n_2024\npsql -h db01 -U postgres -c '\\l'",
        ("pgAdm1n_2024",),
        "password",
        "linux",
    ),
    S("echo 'deploy:D3pl0y!Now' | sudo chpasswd", ("D3pl0y!Now",), "password", "linux"),
    S(
        "sshpass -p 'Sup3rS3cret' ssh admin@10.20.0.5 'sudo systemctl restart nginx'",
        ("Sup3rS3cret",),
        "password",
        "linux",
    ),
    S(
        "curl -u admin:Adm1n-Pa55 -X POST https://nas01.local/api/v1/reboot",
        ("Adm1n-Pa55",),
        "password",
        "linux",
    ),
    S(
        "smbclient //fs01/share -U CONTOSO\\backup%B4ckup-Sh4re -c 'ls'",
        ("B4ckup-Sh4re",),
        "password",
        "linux",
    ),
    S(
        "openssl pkcs12 -export -in cert.pem -inkey key.pem -out site.pfx -passout pass:PfxExport7",
        ("PfxExport7",),
        "password",
        "linux",
    ),
    S(
        "wget --user=ftpuser --password=Ftp-Upl0ad ftp://ftp.contoso.com/drop/report.csv",
        ("Ftp-Upl0ad",),
        "password",
        "linux",
    ),
    S(
        "DB_PASSWORD=prod-db-Pa55word\nDB_HOST=db01.internal",
        ("prod-db-Pa55word",),
        "password",
        "linux",
    ),
    S("htpasswd -b /etc/nginx/.htpasswd monitor M0nit0r!ng", ("M0nit0r!ng",), "password", "linux"),
    S(
        "mysqldump --user=backup --password='Dump#Nightly1' --all-databases > all.sql",
        ("Dump#Nightly1",),
        "password",
        "linux",
    ),
    S(
        "snmp: community string set, enable secret = C1sc0Enable!",
        ("C1sc0Enable!",),
        "password",
        "any",
    ),
    # --- connection strings ---
    S(
        "Server=sql01.contoso.local;Database=CRM;User Id=crm_app;Password=CrmApp#2024;"
        "TrustServerCertificate=True",
        ("CrmApp#2024",),
        "connection-string",
        "windows",
    ),
    S(
        "Data Source=SQL02\\ERP;Initial Catalog=Sage;User ID=sage;Pwd=Sage200!x;",
        ("Sage200!x",),
        "connection-string",
        "windows",
    ),
    S(
        "postgresql://app_user:Pg-S3cret-99@db01.internal:5432/orders",
        ("Pg-S3cret-99",),
        "url-password",
        "linux",
    ),
    S(
        "mongodb://admin:M0ng0Adm!n@10.0.4.12:27017/?authSource=admin",
        ("M0ng0Adm!n",),
        "url-password",
        "linux",
    ),
    S(
        "git clone https://deploy:" + GLPAT + "@gitlab.contoso.com/infra/scripts.git",
        (GLPAT,),
        "gitlab-token",
        "linux",
    ),
    # --- private keys ---
    S(
        "Key from the old server:\n-----BEGIN RSA PRIVATE KEY-----\n"
        + PEM_BODY
        + "-----END RSA PRIVATE KEY-----\nInstalled on the new one.",
        (PEM_BODY[:40], PEM_BODY[-40:-1]),
        "private-key",
        "linux",
    ),
    S(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY + "-----END OPENSSH PRIVATE KEY-----",
        (PEM_BODY[:40],),
        "private-key",
        "linux",
    ),
    S(
        "Pasted the cert key: -----BEGIN PRIVATE KEY----- "
        + PEM_BODY.replace("\n", " ")
        + "-----END PRIVATE KEY-----",
        (PEM_BODY[:40],),
        "private-key",
        "windows",
    ),
    S(
        "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\n"
        "Private-Lines: 2\n" + PEM_BODY + "Private-MAC: 5a1f0e2b9c3d4e5f60718293a4b5c6d7e8f90a1b",
        (PEM_BODY[:40],),
        "private-key",
        "windows",
    ),
    # --- JWTs, bearer, basic ---
    S("Graph call failed, token was " + JWT, (JWT,), "jwt", "any"),
    S(
        'curl -H "Authorization: Bearer ' + JWT + '" https://graph.microsoft.com/v1.0/me',
        (JWT,),
        "bearer-token",
        "linux",
    ),
    S(
        "Invoke-RestMethod -Uri $uri -Headers "
        '@{ Authorization = "Bearer 7f3kQ9zL2mXw8pRt5vYb1nC4" }',
        ("7f3kQ9zL2mXw8pRt5vYb1nC4",),
        "bearer-token",
        "windows",
    ),
    S("Authorization: Basic " + BASIC, (BASIC,), "basic-auth", "any"),
    S(
        "$headers = @{ Authorization = 'Basic " + BASIC_2 + "' }",
        (BASIC_2,),
        "basic-auth",
        "windows",
    ),
    # --- cloud keys ---
    S(
        "aws configure: AWS Access Key ID [None]: "
        + AWS_ID
        + "\nAWS Secret Access Key [None]: "
        + AWS_SECRET,
        (AWS_ID, AWS_SECRET),
        "aws-access-key",
        "linux",
    ),
    S(
        "[default]\naws_access_key_id = " + AWS_ID + "\naws_secret_access_key = " + AWS_SECRET_2,
        (AWS_ID, AWS_SECRET_2),
        "aws-access-key",
        "linux",
    ),
    S(
        "Set-AWSCredential -AccessKey " + AWS_ID + " -SecretKey " + AWS_SECRET + " -StoreAs backup",
        (AWS_ID, AWS_SECRET),
        "aws-access-key",
        "windows",
    ),
    S(
        'aws iam create-access-key --user-name backup-s3\n{\n  "AccessKey": {\n'
        '    "UserName": "backup-s3",\n    "Status": "Active",\n'
        '    "SecretAccessKey": "' + AWS_SECRET_2 + '"\n  }\n}',
        (AWS_SECRET_2,),
        "aws-secret-key",
        "linux",
    ),
    S(
        "DefaultEndpointsProtocol=https;AccountName=contosobackup;AccountKey="
        + AZURE_KEY
        + ";EndpointSuffix=core.windows.net",
        (AZURE_KEY,),
        "azure-key",
        "windows",
    ),
    S(
        "New-AzStorageContext -StorageAccountName contosologs -StorageAccountKey '"
        + AZURE_KEY
        + "'",
        (AZURE_KEY,),
        "password",
        "windows",
    ),
    S(
        "azcopy copy 'C:\\Export\\*' 'https://contosobackup.blob.core.windows.net/export?sv=2022-11-02"
        "&ss=b&srt=co&sp=rwlac&se=2026-12-31T23:59:59Z&st=2026-01-01T00:00:00Z&spr=https&sig="
        + SAS_SIG
        + "' --recursive",
        (SAS_SIG,),
        "azure-sas",
        "windows",
    ),
    S(
        "Endpoint=sb://contoso-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=" + SB_KEY,
        (SB_KEY,),
        "azure-key",
        "any",
    ),
    S(
        "Maps widget uses key " + GOOGLE + " (restricted to our domain)",
        (GOOGLE,),
        "google-api-key",
        "any",
    ),
    S("$env:GITHUB_TOKEN = '" + GH + "'", (GH,), "github-token", "windows"),
    S(
        "git remote set-url origin https://x-access-token:" + GH + "@github.com/contoso/infra.git",
        (GH,),
        "github-token",
        "linux",
    ),
    S("Runner registered with token " + GLPAT, (GLPAT,), "gitlab-token", "linux"),
    S("Alert webhook bot token " + SLACK + " posted to #noc", (SLACK,), "slack-token", "any"),
    S("Billing integration key " + STRIPE, (STRIPE,), "stripe-key", "any"),
    S("SMTP relay via SendGrid, apikey " + SENDGRID, (SENDGRID,), "api-token", "any"),
    # --- high-entropy values in key-like context ---
    S(
        "App registration Backup-Reporter: client_secret = " + CLIENT_SECRET,
        (CLIENT_SECRET,),
        "secret",
        "windows",
    ),
    S(
        "Connect-MgGraph -ClientId 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b -TenantId "
        "72f988bf-86f1-41af-91ab-2d7cd011db47 -ClientSecret " + CLIENT_SECRET,
        (CLIENT_SECRET,),
        "password",
        "windows",
    ),
    S("webhook signing secret: " + HEX_SECRET, (HEX_SECRET,), "secret", "any"),
    S("X-Api-Key: " + HEX_SECRET, (HEX_SECRET,), "secret", "any"),
    S("SessionToken=" + CLIENT_SECRET + HEX_SECRET[:12], (CLIENT_SECRET,), "secret", "linux"),
    # --- BitLocker ---
    S(
        "BitLocker recovery key for LAPTOP-0142: " + BITLOCKER,
        (BITLOCKER,),
        "recovery-key",
        "windows",
    ),
    S(
        "manage-bde -protectors -get C:\n  Numerical Password:\n    ID: {5A6F1E2B-3C4D-4E5F-8A9B-"
        "0C1D2E3F4A5B}\n    Password:\n      " + BITLOCKER,
        (BITLOCKER,),
        "recovery-key",
        "windows",
    ),
]


CLEAN: list[str] = [
    # Windows notes and command output
    "User called about a password reset; verified identity via callback and reset via the portal.",
    "Explained the password policy: 14 characters minimum, no reuse of the last 24.",
    "Password expired on Monday, user changed it themselves through SSPR.",
    "PasswordLastSet : 01/02/2026 10:14:22\nPasswordNeverExpires : False\nEnabled : True",
    "Set-ADUser -Identity jdoe -ChangePasswordAtLogon $true",
    "$cred = Get-Credential CONTOSO\\svc-backup\nNew-PSDrive -Name B -PSProvider FileSystem "
    "-Root \\\\nas01\\backup -Credential $cred",
    "Set-ADAccountPassword -Identity jdoe -Reset -NewPassword (Read-Host -AsSecureString 'New')",
    "$pw = Read-Host 'Password' -AsSecureString",
    "New-LocalUser -Name kiosk -Password $securePassword -PasswordNeverExpires",
    "net user jdoe /domain\nUser name jdoe\nPassword last set 02/12/2026 09:41\n"
    "Password expires Never\nPassword changeable 03/12/2026 09:41",
    "net user jdoe * /domain  (prompted for the new password, typed by the user)",
    "net use Z: \\\\fs01\\finance /persistent:yes",
    "Get-ADDefaultDomainPasswordPolicy\nComplexityEnabled : True\nMinPasswordLength : 14\n"
    "MaxPasswordAge : 90.00:00:00\nLockoutThreshold : 5",
    "gpupdate /force\nComputer Policy update has completed successfully.",
    "Get-MgUser -UserId jane.doe@contoso.com | Select DisplayName, AccountEnabled",
    "Connect-MgGraph -Scopes 'User.ReadWrite.All' -TenantId 72f988bf-86f1-41af-91ab-2d7cd011db47",
    "Connect-MgGraph -ClientId 0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b -CertificateThumbprint "
    "A909502DD82AE41433E6F83886B00D4277A32A7B",
    "Enable-BitLocker -MountPoint C: -RecoveryPasswordProtector; key escrowed to Entra ID.",
    "BitLocker recovery key is stored in Entra ID under the device, not pasted here.",
    "Registry key: HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU",
    "repadmin /replsummary\nSource DSA largest delta fails/total %% error\nDC01 05m:12s 0 / 5 0",
    "dcdiag /test:dns /v completed; no errors on DC01 and DC02.",
    "Checked event 4740 on the PDC: lockout source was WS-0231 (mapped drive with old password).",
    "Cleared stored credentials in Credential Manager for the old password and re-mapped Z:.",
    "Outlook kept prompting for the password; cleared the token cache and re-signed in.",
    "The token expired, so the user signed in again and MFA prompted as expected.",
    "Secret Server entry updated (link in IT Glue); password not shown here.",
    "Password: see IT Glue entry 'CONTOSO local admin'.",
    "Password: <hidden>",
    "Password = ********",
    "Temporary Access Pass issued (valid 8 hours, one-time use) and phoned to the manager.",
    "FSLogix profile container at \\\\fs01\\profiles$ attached after fixing NTFS permissions.",
    "Get-WindowsUpdateLog; error 0x80070002 on KB5034441, ran DISM /RestoreHealth.",
    "DISM /Online /Cleanup-Image /RestoreHealth\nThe restore operation completed successfully.",
    "sfc /scannow found no integrity violations.",
    "Product version 2.9.8884.27471 installed on all session hosts.",
    "Get-BrokerMachine -MachineName CONTOSO\\VDA01 | Select RegistrationState -> Registered",
    "VPN policy VPN-Amsterdam-Branch: IKEv2, AES-256, SHA-256, DH group 14, lifetime 28800.",
    "Set-Mailbox -Identity jane.doe -Type Shared; licence removed afterwards.",
    "Veeam SureBackup job finished: 3 of 3 VMs verified, heartbeat and ping tests passed.",
    "Restore point age 14 hours, within the 24-hour RPO.",
    "Gave the manager full access to the mailbox and forwarded mail for 30 days.",
    # Linux notes and command output
    "sudo passwd -e deploy  # force a password change at next login",
    "ssh-keygen -t ed25519 -C 'backup@nas01' -f ~/.ssh/id_ed25519 -N ''\n"
    "Your public key has been saved in /home/backup/.ssh/id_ed25519.pub",
    "cat /etc/ssh/sshd_config | grep PasswordAuthentication\nPasswordAuthentication no",
    "systemctl status nginx\nActive: active (running) since Tue 2026-12-01 10:02:11 UTC",
    "df -h /var\n/dev/sda3 40G 31G 7.1G 82% /var",
    "journalctl -u sshd --since today | grep 'Failed password' | wc -l\n37",
    "Failed password for invalid user admin from 203.0.113.7 port 51122 ssh2",
    "mysql -u root -p crm < dump.sql   (prompted for the password)",
    "psql -h db01 -U postgres -W -c '\\l'",
    "git log --oneline -3\n3f9c2ab Fix backup rotation\n8e1d4f0 Add monitoring\n1a2b3c4 Initial",
    "sha256sum veeam-agent.deb\n9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  "
    "veeam-agent.deb",
    "apt list --upgradable | wc -l\n42 packages can be upgraded.",
    "crontab -l\n0 2 * * * /usr/local/bin/backup.sh >> /var/log/backup.log 2>&1",
    "tail -n 3 /var/log/auth.log shows only accepted publickey logins.",
    "Certificate renewed with certbot; expiry now 2027-03-01.",
    "uptime\n 10:41:07 up 23 days,  4:12,  2 users,  load average: 0.08, 0.12, 0.10",
    "The API key was rotated in the vendor portal and stored in the vault.",
    "Token count in the export was 512, well under the limit.",
    "Bearer tokens are issued by Entra ID for one hour.",
    "Pass: 3 of 4 checks, the fourth (DNS) fails until replication catches up.",
    "Set the user's password to never expire? No: policy says 90 days.",
    "Ticket 48213: password reset for Jane Doe, completed.",
    "Ran the password reset flow; user confirmed sign-in works on phone and laptop.",
]

# Written after the rules, as a held-out check (17 of 20 found, none false, on the first run);
# two misses were fixed (ldapsearch -w, "key for the RMM:"); the third, a password only said in
# prose with no keyword ("typed Summer!2026 when prompted"), is out of reach and left out.
SECRET_BEARING += [
    S("Created break-glass account; Password: Xk8#vR2!pQ", ("Xk8#vR2!pQ",), "password", "windows"),
    S('$AdminPwd = "Adm!n-Br3akGlass"', ("Adm!n-Br3akGlass",), "password", "windows"),
    S(
        "Set-LocalUser -Name Administrator -Password (ConvertTo-SecureString -String "
        '"L@ps-Old-1" -AsPlainText -Force)',
        ("L@ps-Old-1",),
        "password",
        "windows",
    ),
    S("The new wifi password is Office-Guest-88", ("Office-Guest-88",), "password", "any"),
    S("reset pw to Qwerty123! for j.smith", ("Qwerty123!",), "password", "any"),
    S("sudo mysql -uroot -pRootDb2026 -e 'SHOW DATABASES;'", ("RootDb2026",), "password", "linux"),
    S(
        "ldapsearch -x -H ldap://dc01 -D 'cn=svc-ldap,dc=contoso,dc=local' -w 'Ld@pBind9' "
        "-b dc=contoso,dc=local",
        ("Ld@pBind9",),
        "password",
        "linux",
    ),
    S(
        "ssh-keygen output pasted:\n-----BEGIN EC PRIVATE KEY-----\n"
        "MHcCAQEEIBq7c0X8x7l2Kd9Y5m1H0wq3ZpQk1Rz4T2V6n8Jm9sOoAoGCCqGSM49\n"
        "-----END EC PRIVATE KEY-----",
        ("MHcCAQEEIBq7c0X8x7l2Kd9Y5m1H0wq3ZpQk1Rz4T2V6n8Jm9sOoAoGCCqGSM49",),
        "private-key",
        "linux",
    ),
    S(
        "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEK2",
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEK2",),
        "aws-secret-key",
        "linux",
    ),
    S(
        "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7ABCDEFG",
        ("AKIAIOSFODNN7ABCDEFG",),
        "aws-access-key",
        "linux",
    ),
    S(
        "API key for the RMM: 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        ("9f8e7d6c5b4a39281706f5e4d3c2b1a0",),
        "secret",
        "any",
    ),
    S(
        "x-functions-key: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo",
        ("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo",),
        "secret",
        "any",
    ),
    S(
        "https://contoso.sharepoint.com/...?sig=Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z%3D&sv=2021",
        ("Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z%3D",),
        "azure-sas",
        "windows",
    ),
    S(
        "ftp://backup:Bkp-2026-Nightly@192.0.2.10/archive",
        ("Bkp-2026-Nightly",),
        "url-password",
        "linux",
    ),
    S(
        "Entra app secret: Q~8xK9dL2mN4pR6tV8wY0zA2cE4gI6kM8oQ0sU",
        ("Q~8xK9dL2mN4pR6tV8wY0zA2cE4gI6kM8oQ0sU",),
        "secret",
        "windows",
    ),
    S("Router enable password: Cisc0Rtr#1", ("Cisc0Rtr#1",), "password", "any"),
    S("PIN for the safe is 482913", ("482913",), "password", "any"),
    S(
        "Alerts webhook: https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/abcdefghijklmnopqrstuvwx",
        ("abcdefghijklmnopqrstuvwx",),
        "slack-token",
        "any",
    ),
    S(
        "New-MgUser ... -PasswordProfile @{Password='Start-2026-xy'}",
        ("Start-2026-xy",),
        "password",
        "windows",
    ),
]

# Held out with the secrets above: none of these was a finding on the first run.
CLEAN += [
    "User forgot password; sent SSPR link, user reset it themselves.",
    "Checked password expiry date in AD: expires 2027-01-15.",
    "Enabled 'User must change password at next logon'.",
    "Password writeback is enabled in Entra Connect.",
    "Get-ADUser jdoe -Properties PasswordExpired,PasswordLastSet,LockedOut",
    "The key vault access policy was updated for the backup app.",
    "Renewed the SSL certificate; thumbprint 3B1EFD8A9C0D2E4F6A8B0C2D4E6F8A0B2C4D6E8F.",
    "Ran Test-ComputerSecureChannel -Repair -Credential (Get-Credential)",
    "Token lifetime policy is 60 minutes; no change needed.",
    "Secret scanning in the repo found nothing.",
    "Set-MsolUserPassword is deprecated; used the Graph SDK instead.",
    "Mapped drive via GPO, no credentials needed.",
    "Pass the ticket to the network team for the firewall change.",
    "Passphrase length policy raised to 16 characters.",
    "ping 8.8.8.8 -n 4: 0% loss, avg 12 ms.",
    "ipconfig /flushdns; nslookup contoso.com returned 20.70.246.20",
    "WPA2-Enterprise with RADIUS, no pre-shared key on the corporate SSID.",
    "Bearer token auth fails with 401 until the clock skew was fixed.",
    "Basic authentication is disabled for Exchange Online.",
    "Added the SAS URL to Veeam as documented (stored in the vault, not here).",
]
