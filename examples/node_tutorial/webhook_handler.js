// Sohar's patient-intake tutorial webhook handler (docs.soharhealth.com, "Patient Intake"),
// verbatim but for two lines: the base URL and the port come from the environment, so the
// same code runs against the local sandbox (SOHAR_BASE_URL=http://127.0.0.1:8080) or Sohar.
const express = require('express');
const axios = require('axios');

const SOHAR_BASE_URL = process.env.SOHAR_BASE_URL || 'https://api.soharhealth.com';
const PORT = Number(process.env.PORT || 3000);

const app = require('express')();
app.use(express.json());

app.post('/webhooks', async (req, res) => {
	// Retrieve the verification ID from the request body
	const verificationId = req.body['verificationId'];

	// Generate an access token
	const createTokenResponse = await axios.post(
		`${SOHAR_BASE_URL}/oauth/token`,
		{
			client_id: process.env.SOHAR_CLIENT_ID,
			client_secret: process.env.SOHAR_CLIENT_SECRET
		}
	);

	const accessToken = createTokenResponse.data.access_token;

	// Retrieve details of the completed verification
	const getVerificationResponse = await axios.get(
		`${SOHAR_BASE_URL}/v2/verifications/${verificationId}`,
		{
			headers: {
				'Authorization': `Bearer ${accessToken}`
			}
		}
	);

	// Handle routing logic based on the Sohar response
	const verificationData = getVerificationResponse.data;
	const status = verificationData.status;

	res.status(200).send({ success: true });
});

app.listen(PORT, () => console.log(`Running on port ${PORT}`));
